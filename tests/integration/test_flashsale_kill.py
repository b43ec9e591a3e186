"""kill -9 mid-sale loses nothing, on both engines and both databases.

A process reserving in a loop is SIGKILLed; after a restart the engine still holds every reservation
it acknowledged, the sale carries on to exactly its stock, and once the order writer catches up every
acknowledged reservation is an order and reconciliation shows no difference. Then the same for an
order writer killed mid-batch: the next writer writes what it had left, once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.flashsale_setup import new_sale, orders, reconciled
from tests.unit.flashsale.engines import OPEN, Engines
from tests.unit.flashsale.engines import engines as engines

from newretail.flashsale import OrderWriter, Rejection, Reservation, restore_engine
from newretail.oltp.tables import flashsale_orders

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "unit" / "flashsale" / "child.py"
STOCK = 20_000


def start_child(engines: Engines, database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **engines.env(), "FS_DATABASE": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


def lines_until(child: subprocess.Popen[str], wanted: int) -> Iterator[str]:
    assert child.stdout is not None
    for n, line in enumerate(child.stdout, start=1):
        yield line
        if n >= wanted:
            return
    pytest.fail(f"the child exited with {child.wait()} before it was killed")


@pytest.mark.slow
def test_a_killed_reserving_process_loses_no_acknowledged_reservation(
    migrated_engine: Engine, engines: Engines, database_url: str
) -> None:
    armer = engines.open()
    sale_id = new_sale(migrated_engine, armer, stock={"SKU-A": STOCK}, limit=1)
    engines.close(armer)  # the child re-arms from OLTP, as a restarted server does

    child = start_child(engines, database_url, "loop", sale_id)
    acknowledged = [line.split()[1] for line in lines_until(child, 300)]
    kill(child)
    assert child.stdout is not None
    # What it printed before dying was acknowledged too; a torn last line was not.
    acknowledged += [
        line.split()[1]
        for line in child.stdout.read().splitlines(keepends=True)
        if line.endswith("\n")
    ]
    child.stdout.close()
    assert len(acknowledged) < STOCK, "the sale ended before the kill"

    engine = engines.open()
    assert sale_id in restore_engine(migrated_engine, engine)
    taken = engine.counts(sale_id).items[0]
    assert taken.reserved >= len(acknowledged)
    # Every acknowledged reservation is held: asking again with its key returns it. The child's
    # n-th call was for person loop<n> and, the stock being ample, got reservation <sale>-<n>.
    for rid in acknowledged[-20:]:
        replay = engine.reserve(
            sale_id,
            sku="SKU-A",
            person_id=f"loop{rid.rpartition('-')[2]}",
            quantity=1,
            request_key="k",
            now=OPEN,
        )
        assert isinstance(replay, Reservation) and replay.id == rid and replay.replayed

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(
                lambda n: engine.reserve(
                    sale_id,
                    sku="SKU-A",
                    person_id=f"after{n}",
                    quantity=1,
                    request_key="k",
                    now=OPEN,
                ),
                range(STOCK - taken.reserved + 50),
            )
        )
    assert sum(isinstance(o, Reservation) for o in outcomes) == STOCK - taken.reserved
    assert all(o.reason.value == "flashsale.sold_out" for o in outcomes if isinstance(o, Rejection))

    OrderWriter(engine.order_log, migrated_engine, consumer="after-restart", batch=5_000).drain()
    written = orders(migrated_engine, sale_id)
    assert set(acknowledged) <= written.keys()
    assert len(written) == STOCK
    result = reconciled(migrated_engine, engine, sale_id)
    assert result.ok, result.differences
    assert result.items[0].engine.remaining == 0


# Enough orders that the writer, 50 a batch and paced, is still draining when the test has seen 500 and
# kills it, however fast the machine.
WRITER_ORDERS = 12_000


@pytest.mark.slow
def test_a_killed_order_writer_loses_nothing_and_writes_nothing_twice(
    migrated_engine: Engine, engines: Engines, database_url: str
) -> None:
    engine = engines.open()
    sale_id = new_sale(migrated_engine, engine, stock={"SKU-A": WRITER_ORDERS}, limit=1)
    with ThreadPoolExecutor(8) as pool:
        reserved = list(
            pool.map(
                lambda n: engine.reserve(
                    sale_id, sku="SKU-A", person_id=f"p{n}", quantity=1, request_key="k", now=OPEN
                ),
                range(WRITER_ORDERS),
            )
        )
    assert all(isinstance(r, Reservation) for r in reserved)

    child = start_child(engines, database_url, "writer", "doomed")
    deadline = time.monotonic() + 120
    while written_count(migrated_engine, sale_id) < 500:
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    kill(child)
    at_kill = written_count(migrated_engine, sale_id)
    assert 500 <= at_kill < WRITER_ORDERS, "the writer finished before it could be killed"

    # More happens while no writer runs: payments for the first hundred.
    for reservation in reserved[:100]:
        assert isinstance(reservation, Reservation)
        engine.pay(reservation.id, now=OPEN + dt.timedelta(seconds=10))
    rescuer = OrderWriter(engine.order_log, migrated_engine, consumer="rescuer", claim_idle_ms=0)
    rescuer.drain()
    written = orders(migrated_engine, sale_id)
    assert written.keys() == {r.id for r in reserved if isinstance(r, Reservation)}
    assert sum(row[7] == "paid" for row in written.values()) == 100
    result = reconciled(migrated_engine, engine, sale_id)
    assert result.ok, result.differences


def written_count(database: Engine, sale_id: str) -> int:
    with database.connect() as conn:
        query = select(func.count()).where(flashsale_orders.c.sale_id == sale_id)
        return int(conn.execute(query).scalar_one())
