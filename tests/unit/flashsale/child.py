"""A process that reserves or writes orders, for the multi-process and kill -9 tests.

``python child.py reserve SALE SEED COUNT PERSONS`` reserves COUNT times for random persons and prints
one line per answer: ``R <id> <person> <units> <key>`` or ``J <reason> <person>``.
``python child.py loop SALE`` reserves for new persons until killed, printing ``R <id>`` after each
acknowledged reservation. ``python child.py writer CONSUMER`` runs the order writer until killed.
The engine comes from FS_KIND, FS_ROOT and FS_PREFIX (see ``Engines.env``); the OLTP database, when
FS_DATABASE is set, re-arms the engine's sales at start as a restarted server would.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

from newretail.flashsale import (
    FlashSaleEngine,
    InProcessEngine,
    OrderWriter,
    RedisEngine,
    Reservation,
    restore_engine,
)
from newretail.oltp import make_engine

REDIS_URL = "redis://127.0.0.1:6379/0"
# Every test sale is open at this moment (engines.OPEN), written out so this file runs on its own.
OPEN = dt.datetime(2026, 11, 11, 0, 1, tzinfo=dt.UTC)


def open_engine() -> FlashSaleEngine:
    engine: FlashSaleEngine
    if os.environ["FS_KIND"] == "redis":
        engine = RedisEngine.connect(REDIS_URL, prefix=os.environ["FS_PREFIX"])
    else:
        engine = InProcessEngine(Path(os.environ["FS_ROOT"]))
    if "FS_DATABASE" in os.environ:
        restore_engine(make_engine(os.environ["FS_DATABASE"]), engine)
    return engine


def reserve(sale_id: str, seed: int, count: int, persons: int) -> None:
    engine = open_engine()
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        person = f"p{rng.randrange(persons)}"
        key = f"k{rng.randrange(3)}"
        outcome = engine.reserve(
            sale_id,
            sku=rng.choice(["SKU-A", "SKU-B"]),
            person_id=person,
            quantity=rng.choice([1, 1, 2]),
            request_key=key,
            now=OPEN,
        )
        if isinstance(outcome, Reservation):
            lines.append(f"R {outcome.id} {person} {outcome.quantity} {key}")
        else:
            lines.append(f"J {outcome.reason.value} {person}")
    print("\n".join(lines), flush=True)
    engine.close()


def loop(sale_id: str) -> None:
    engine = open_engine()
    n = 0
    while True:
        n += 1
        outcome = engine.reserve(
            sale_id, sku="SKU-A", person_id=f"loop{n}", quantity=1, request_key="k", now=OPEN
        )
        if isinstance(outcome, Reservation):
            print(f"R {outcome.id}", flush=True)


def writer(consumer: str) -> None:
    engine = open_engine()
    database = make_engine(os.environ["FS_DATABASE"])
    order_writer = OrderWriter(engine.order_log, database, consumer=consumer, batch=50)
    while True:
        # Paced between batches, so a test can kill it part way however fast the machine is (an
        # unpaced writer drained 12,000 orders before the test saw its first 500).
        time.sleep(0.005 if order_writer.step() else 0.05)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "reserve":
        reserve(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif mode == "loop":
        loop(args[0])
    else:
        writer(args[0])
