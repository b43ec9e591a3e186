"""The order writer and reconciliation on both engines and both databases: a busy sale ends with sold
= orders in OLTP = stock taken; redelivered records change nothing; a crashed writer's batch is
claimed and written once; a missing or altered order shows up as a named difference."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Mapping

from sqlalchemy import Engine, delete, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.flashsale_setup import new_sale, orders, reconciled
from tests.unit.flashsale.engines import OPEN, Engines
from tests.unit.flashsale.engines import engines as engines

from newretail.flashsale import FlashSaleEngine, OrderWriter, Reservation
from newretail.flashsale.records import decode
from newretail.flashsale.writer import GROUP, write_orders
from newretail.oltp.tables import flashsale_orders

STOCK = {"SKU-A": 150, "SKU-B": 100}


def busy_sale(engine: FlashSaleEngine, sale_id: str) -> list[Reservation]:
    """Eight threads of 300 calls from 400 persons; then some are paid and the rest expire."""
    accepted: list[Reservation] = []
    lock = threading.Lock()

    def shopper(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            outcome = engine.reserve(
                sale_id,
                sku=rng.choice(list(STOCK)),
                person_id=f"p{rng.randrange(400)}",
                quantity=rng.choice([1, 2]),
                request_key=f"k{rng.randrange(2)}",
                now=OPEN + dt.timedelta(milliseconds=rng.randrange(1000)),
            )
            if isinstance(outcome, Reservation) and not outcome.replayed:
                with lock:
                    accepted.append(outcome)

    threads = [threading.Thread(target=shopper, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for reservation in accepted[::3]:
        engine.pay(reservation.id, now=OPEN + dt.timedelta(seconds=30))
    engine.expire_due(now=OPEN + dt.timedelta(minutes=5))
    return accepted


def test_a_busy_sale_reconciles_to_zero_differences(
    migrated_engine: Engine, engines: Engines
) -> None:
    engine = engines.open()
    sale_id = new_sale(migrated_engine, engine, stock=STOCK, eligible=[f"p{n}" for n in range(300)])
    accepted = busy_sale(engine, sale_id)
    writer = OrderWriter(engine.order_log, migrated_engine, consumer="w1", batch=100)
    assert writer.drain() == len(accepted) * 2  # a reservation, then its payment or expiry
    assert writer.drain() == 0
    written = orders(migrated_engine, sale_id)
    assert written.keys() == {r.id for r in accepted}
    statuses = {row[0]: row[7] for row in written.values()}
    paid = {r.id for r in accepted[::3]}
    assert {rid for rid, status in statuses.items() if status == "paid"} == paid
    assert {rid for rid, status in statuses.items() if status == "expired"} == written.keys() - paid
    assert {(row[5], row[6]) for row in written.values()} == {(990, "CNY")}
    result = reconciled(migrated_engine, engine, sale_id)
    assert result.ok, result.differences
    assert result.orders == result.reservations == len(accepted)
    for item in result.items:
        assert item.sold == item.taken == item.orders_reserved + item.orders_paid
        assert item.engine.paid == item.orders_paid > 0


def test_redelivered_and_reordered_records_change_nothing(
    migrated_engine: Engine, engines: Engines
) -> None:
    engine = engines.open()
    sale_id = new_sale(migrated_engine, engine, stock=STOCK)
    busy_sale(engine, sale_id)
    log = engine.order_log
    entries = log.read("replay-check", "c", count=100_000)
    records = [decode(entry.payload) for entry in entries]
    prices: dict[str, Mapping[str, tuple[int, str]]] = {}
    with migrated_engine.begin() as conn:
        write_orders(conn, records, prices)
    once = orders(migrated_engine, sale_id)
    rng = random.Random(7)
    for _ in range(3):
        shuffled = records + rng.sample(records, len(records) // 2)
        rng.shuffle(shuffled)
        for start in range(0, len(shuffled), 97):
            with migrated_engine.begin() as conn:
                write_orders(conn, shuffled[start : start + 97], prices)
        assert orders(migrated_engine, sale_id) == once


def test_a_crashed_writers_batch_is_claimed_and_written_once(
    migrated_engine: Engine, engines: Engines
) -> None:
    engine = engines.open()
    sale_id = new_sale(migrated_engine, engine, stock=STOCK)
    accepted = busy_sale(engine, sale_id)
    log = engine.order_log
    # A writer that read a batch and died before committing: the batch stays pending for it.
    stranded = log.read(GROUP, "crashed", count=200)
    assert len(stranded) == 200
    rescuer = OrderWriter(log, migrated_engine, consumer="rescuer", batch=64, claim_idle_ms=0)
    assert rescuer.drain() == len(accepted) * 2
    assert log.claim(GROUP, "anyone", min_idle_ms=0, count=10) == []
    assert orders(migrated_engine, sale_id).keys() == {r.id for r in accepted}
    assert reconciled(migrated_engine, engine, sale_id).ok


def test_differences_are_named(migrated_engine: Engine, engines: Engines) -> None:
    engine = engines.open()
    sale_id = new_sale(migrated_engine, engine, stock={"SKU-A": 10}, limit=5)
    first = engine.reserve(
        sale_id, sku="SKU-A", person_id="p1", quantity=2, request_key="k", now=OPEN
    )
    assert isinstance(first, Reservation)
    writer = OrderWriter(engine.order_log, migrated_engine, consumer="w1")
    writer.drain()
    assert reconciled(migrated_engine, engine, sale_id).ok
    # The writer is behind: a reservation the engine made is not in OLTP yet.
    engine.reserve(sale_id, sku="SKU-A", person_id="p2", quantity=3, request_key="k", now=OPEN)
    behind = reconciled(migrated_engine, engine, sale_id)
    assert behind.differences == {"SKU-A: orders in OLTP - sold": -3, "orders - reservations": -1}
    writer.drain()
    assert reconciled(migrated_engine, engine, sale_id).ok
    # Someone marked an order paid in OLTP that the engine never saw paid, and deleted another.
    with migrated_engine.begin() as conn:
        conn.execute(
            update(flashsale_orders)
            .where(flashsale_orders.c.reservation_id == first.id)
            .values(status="paid")
        )
        conn.execute(delete(flashsale_orders).where(flashsale_orders.c.person_id == "p2"))
    tampered = reconciled(migrated_engine, engine, sale_id)
    assert tampered.differences == {
        "SKU-A: orders in OLTP - sold": -3,
        "SKU-A: paid orders - paid in engine": 2,
        "orders - reservations": -1,
    }
    assert not tampered.ok
