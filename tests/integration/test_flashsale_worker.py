"""The server's flash-sale worker on both engines and databases: unpaid reservations expire within
about a second of their deadline and every order reaches OLTP; of two server processes' workers one
does the work, and the other takes over when the first stops."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.flashsale_setup import orders, reconciled
from tests.unit.flashsale.engines import Engines
from tests.unit.flashsale.engines import engines as engines

from newretail.api.flashsale_worker import FlashSaleWorker
from newretail.flashsale import Reservation, SaleDraft, SaleItem, arm_sale, create_sale


def live_sale(database: Engine, engine: object, now: dt.datetime) -> str:
    sale_id = f"fs-{uuid.uuid4().hex[:12]}"
    draft = SaleDraft(
        id=sale_id,
        name="Now",
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(minutes=10),
        per_person_limit=1,
        payment_window_seconds=1,
        channels=("app",),
        items=(SaleItem("SKU-A", 100, 990, "CNY"),),
    )
    with database.begin() as conn:
        create_sale(conn, draft, now=now)
    arm_sale(database, engine, sale_id, now=now)  # type: ignore[arg-type]
    return sale_id


def wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_the_worker_expires_on_time_and_writes_every_order(
    migrated_engine: Engine, engines: Engines, tmp_path: Path
) -> None:
    engine = engines.open()
    now = dt.datetime.now(dt.UTC)
    sale_id = live_sale(migrated_engine, engine, now)
    made = [
        engine.reserve(
            sale_id, sku="SKU-A", person_id=f"p{n}", quantity=1, request_key="k", now=now
        )
        for n in range(20)
    ]
    assert all(isinstance(r, Reservation) for r in made)
    first = made[0]
    assert isinstance(first, Reservation)
    engine.pay(first.id, now=now)
    lock = tmp_path / "worker.lock"
    leader = FlashSaleWorker(engine=engine, database=migrated_engine, lock_path=lock)
    follower = FlashSaleWorker(engine=engine, database=migrated_engine, lock_path=lock)
    leader.start()
    follower.start()
    try:
        assert wait_for(lambda: engine.counts(sale_id).expiries == 19, 10)
        assert wait_for(
            lambda: (
                sorted(row[7] for row in orders(migrated_engine, sale_id).values())
                == ["expired"] * 19 + ["paid"]
            ),
            10,
        )
        leader.stop()  # the follower takes over: new reservations still reach OLTP
        later = dt.datetime.now(dt.UTC)
        engine.reserve(
            sale_id, sku="SKU-A", person_id="late", quantity=1, request_key="k", now=later
        )
        assert wait_for(lambda: len(orders(migrated_engine, sale_id)) == 21, 10)
    finally:
        follower.stop()
    result = reconciled(migrated_engine, engine, sale_id)
    assert result.ok, result.differences
