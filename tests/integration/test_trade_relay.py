"""The trade outbox and its relay on both databases: orders and refunds written to OLTP reach the
lake's ODS shaped like the canonical tables, become DWD orders and DWS person-days in a lake build,
and a relay killed between the lake write and the mark leaves, after the next relay, one copy of each.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer
from sqlalchemy import Connection, Engine, func, insert, select, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from typer.testing import CliRunner

from newretail.api.leader import LeaderLock
from newretail.api.trade_relay import OutboxRelay
from newretail.cli.trade import trade_app
from newretail.config import Settings, get_settings
from newretail.errors import NotFound
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.model import table
from newretail.oltp.tables import (
    catalogue_stores,
    coupon_templates,
    coupons,
    identity_links,
    order_discounts,
    order_lines,
    order_refunds,
    orders,
    trade_outbox,
)
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate
from newretail.trade.outbox import enqueue_order, enqueue_refund
from newretail.trade.relay import backlog, relay, relay_once

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 1, 5, 2, 30, tzinfo=dt.UTC)  # 10:30 in Shanghai
DAY = dt.date(2026, 1, 5)
STORE = "S0001"  # a store of the generated chain, in Asia/Shanghai
PERSON, RECORD = "P-relay-1", "oms-test-uid-1"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def db(migrated_engine: Engine) -> Engine:
    """The module's database with the store, a coupon template and the buyer's OneID links."""
    with migrated_engine.begin() as conn:
        conn.execute(
            insert(catalogue_stores).values(
                store_id=STORE,
                name="门店一",
                city="上海",
                currency="CNY",
                timezone="Asia/Shanghai",
                open=True,
            )
        )
        conn.execute(
            insert(coupon_templates).values(
                id="T10",
                name="满30减10",
                name_en="10 off 30",
                kind="amount_off",
                currency="CNY",
                amount_off_minor=1000,
                threshold_minor=3000,
                scope={},
                issued_count=0,
                stacks_with_tier=True,
                status="active",
                created_by="test",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        link = {"reason_kind": "identifier", "reason": "phone", "origin": "api"}
        conn.execute(
            insert(identity_links),
            [
                # The pos card was linked first, the app account later: an app order still names
                # the app account, and an order from elsewhere the earliest record.
                {
                    **link,
                    "source": "pos",
                    "source_record_id": "card-1",
                    "person_id": PERSON,
                    "linked_at": NOW - dt.timedelta(days=30),
                },
                {
                    **link,
                    "source": "app",
                    "source_record_id": RECORD,
                    "person_id": PERSON,
                    "linked_at": NOW - dt.timedelta(days=10),
                },
                {
                    **link,
                    "source": "app",
                    "source_record_id": "oms-test-uid-0",
                    "person_id": PERSON,
                    "linked_at": NOW - dt.timedelta(days=5),
                },
            ],
        )
    return migrated_engine


@pytest.fixture
def outbox(db: Engine) -> Engine:
    """The database with every earlier test's outbox rows out of the way."""
    with db.begin() as conn:
        conn.execute(
            update(trade_outbox).where(trade_outbox.c.relayed_at.is_(None)).values(relayed_at=NOW)
        )
    return db


def place(
    conn: Connection,
    *,
    channel: str = "app",
    person_id: str | None = PERSON,
    coupon: bool = True,
    at: dt.datetime = NOW,
) -> str:
    """An order of two lines (2 x 1800 and 1 x 2500), 1000 off with a coupon when ``coupon``,
    written as checkout would, and queued."""
    n = next(_ids)
    order_id = f"ord_test{n:06d}"
    discount = 1000 if coupon else 0
    conn.execute(
        insert(orders).values(
            id=order_id,
            channel=channel,
            client_order_id=f"c{n}",
            store_id=STORE,
            person_id=person_id,
            membership_id=None,
            status="placed",
            fulfilment="pickup",
            currency="CNY",
            gross_minor=6100,
            discount_minor=discount,
            paid_minor=6100 - discount,
            wallet_minor=0,
            payment_method="wechat_pay",
            points_earned=0,
            refunded_minor=0,
            placed_at=at,
            business_date=DAY,
        )
    )
    # The coupon's 1000 apportioned over the lines by their gross: 590 and 410.
    share = {1: 590 if coupon else 0, 2: 410 if coupon else 0}
    conn.execute(
        insert(order_lines),
        [
            {
                "order_id": order_id,
                "line_no": no,
                "product_id": product,
                "category": "coffee",
                "size": "M",
                "quantity": quantity,
                "unit_price_minor": price,
                "gross_minor": quantity * price,
                "discount_minor": share[no],
                "net_minor": quantity * price - share[no],
                "points_earned": 0,
                "refunded_quantity": 0,
            }
            for no, product, quantity, price in ((1, "P001", 2, 1800), (2, "P002", 1, 2500))
        ],
    )
    if coupon:
        coupon_id = f"CPN{n:06d}"
        conn.execute(
            insert(coupons).values(
                id=coupon_id,
                template_id="T10",
                person_id=person_id or "nobody",
                status="redeemed",
                issue_key=f"test:{n}",
                issued_at=at - dt.timedelta(days=1),
                valid_from=at - dt.timedelta(days=1),
                expires_at=at + dt.timedelta(days=30),
                order_id=order_id,
                redeemed_at=at,
                discount_minor=1000,
            )
        )
        conn.execute(
            insert(order_discounts),
            [
                {
                    "order_id": order_id,
                    "step": 1,
                    "line_no": no,
                    "source": "coupon",
                    "coupon_id": coupon_id,
                    "amount_minor": amount,
                }
                for no, amount in share.items()
            ],
        )
    enqueue_order(conn, order_id, now=at)
    return order_id


def refund(conn: Connection, order_id: str, *, amount: int, reason: str, at: dt.datetime) -> str:
    refund_id = f"rf_test{next(_ids):06d}"
    conn.execute(
        insert(order_refunds).values(
            id=refund_id,
            order_id=order_id,
            refund_key=refund_id,
            lines=[[2, 1, amount]],
            amount_minor=amount,
            wallet_minor=0,
            points_reversed=0,
            coupons_restored=[],
            reason=reason,
            actor="test",
            at=at,
        )
    )
    enqueue_refund(conn, refund_id, now=at)
    return refund_id


def lake_rows(lake: Lake, layer: str, name: str, where: str = "true") -> list[dict[str, Any]]:
    """Rows of a lake table read with DuckDB, partition columns included."""
    files = f"{lake.root}/{layer}/{name}/**/*.parquet"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        result = con.sql(f"SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
        result = result.filter(where)
        return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def test_orders_refunds_and_redemptions_reach_ods_shaped_like_the_model(
    outbox: Engine, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    with outbox.begin() as conn:
        first = place(conn)
        second = place(conn, channel="pos", coupon=False)
        # Refunded just after midnight Shanghai time: the refund's business date is the next day.
        late = dt.datetime(2026, 1, 5, 16, 10, tzinfo=dt.UTC)
        refunded = refund(conn, first, amount=2090, reason="changed_mind", at=late)
    assert backlog(outbox) == 3

    result = relay_once(outbox, lake, now=NOW, limit=100)

    assert result.outbox_rows == 3
    assert result.rows == {"orders": 2, "order_lines": 4, "coupon_redemptions": 1, "refunds": 1}
    assert result.added == 8
    assert backlog(outbox) == 0

    by_id = {r["order_id"]: r for r in lake_rows(lake, "ods", "orders")}
    assert set(by_id) == {first, second}
    row = by_id[first]
    assert set(row) == set(table("orders").schema.names)
    assert row["source"] == "oms"
    assert row["channel"] == "app"
    assert (row["identity_source"], row["identity_record_id"]) == ("app", RECORD)
    # The pos order names the person's pos card, not the app account.
    pos = by_id[second]
    assert (pos["identity_source"], pos["identity_record_id"]) == ("pos", "card-1")
    assert pos["coupon_id"] is None
    assert row["status"] == "completed"
    assert row["placed_at"] == NOW
    assert row["business_hour"] == 10
    assert row["business_date"] == DAY
    assert (row["gross_minor"], row["discount_minor"], row["paid_minor"]) == (6100, 1000, 5100)
    assert row["delivery_fee_minor"] == 0
    assert row["coupon_id"] == "CPN" + first[-6:]
    assert row["payment_method"] == "wechat_pay"

    lines = sorted(
        (r["order_id"], r["line_no"], r["quantity"], r["unit_price_minor"], r["discount_minor"])
        for r in lake_rows(lake, "ods", "order_lines")
    )
    assert lines == sorted(
        [
            (first, 1, 2, 1800, 590),
            (first, 2, 1, 2500, 410),
            (second, 1, 2, 1800, 0),
            (second, 2, 1, 2500, 0),
        ]
    )
    (redemption,) = lake_rows(lake, "ods", "coupon_redemptions")
    assert redemption["coupon_id"] == row["coupon_id"]
    assert (redemption["source"], redemption["order_source"]) == ("oms", "oms")
    assert (redemption["order_id"], redemption["discount_minor"]) == (first, 1000)
    assert redemption["redeemed_at"] == NOW
    (refund_row,) = lake_rows(lake, "ods", "refunds")
    assert refund_row["refund_id"] == refunded
    assert (refund_row["order_source"], refund_row["order_id"]) == ("oms", first)
    assert refund_row["reason"] == "other"  # the lake has no changed_mind
    assert refund_row["amount_minor"] == 2090
    assert refund_row["requested_at"] == late
    assert refund_row["business_date"] == dt.date(2026, 1, 6)

    again = relay_once(outbox, lake, now=NOW, limit=100)
    assert (again.outbox_rows, again.added) == (0, 0)


def test_relay_takes_the_oldest_first_in_batches_and_merges_when_done(
    outbox: Engine, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    with outbox.begin() as conn:
        placed = [place(conn, coupon=i % 2 == 0) for i in range(7)]
    first = relay_once(outbox, lake, now=NOW, limit=3, compact=False)
    assert first.outbox_rows == 3
    assert first.added == 0  # staged, not merged
    assert lake_rows_or_none(lake, "orders") == []
    assert unrelayed_orders(outbox) == placed[3:]
    rest = relay(outbox, lake, now=NOW, limit=3)
    assert rest.outbox_rows == 4
    assert rest.added == 7 + 14 + 4  # everything staged, the first batch too
    ids = [r["order_id"] for r in lake_rows(lake, "ods", "orders")]
    assert sorted(ids) == sorted(placed)


def lake_rows_or_none(lake: Lake, name: str) -> list[dict[str, Any]]:
    return lake_rows(lake, "ods", name) if lake.files("ods", name) else []


def unrelayed_orders(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        payloads = conn.execute(
            select(trade_outbox.c.payload)
            .where(trade_outbox.c.relayed_at.is_(None))
            .order_by(trade_outbox.c.id)
        ).scalars()
        return [p["tables"]["orders"][0]["order_id"] for p in payloads]


def test_anonymous_orders_and_persons_without_records_have_no_identity(
    outbox: Engine, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    with outbox.begin() as conn:
        anonymous = place(conn, person_id=None, coupon=False)
        unlinked = place(conn, person_id="P-without-records", coupon=False)
        # No mini-program record: the person's earliest record stands in.
        other_channel = place(conn, channel="mini_program", coupon=False)
    relay_once(outbox, lake, now=NOW, limit=100)
    by_id = {
        r["order_id"]: (r["identity_source"], r["identity_record_id"])
        for r in lake_rows(lake, "ods", "orders")
    }
    assert by_id == {
        anonymous: (None, None),
        unlinked: (None, None),
        other_channel: ("pos", "card-1"),
    }


def test_enqueue_refuses_what_the_lake_would_refuse_and_writes_nothing(outbox: Engine) -> None:
    with pytest.raises(NotFound) as unknown, outbox.begin() as conn:
        enqueue_order(conn, "ord_missing", now=NOW)
    assert unknown.value.code == "order.unknown"
    with pytest.raises(NotFound) as unknown_refund, outbox.begin() as conn:
        enqueue_refund(conn, "rf_missing", now=NOW)
    assert unknown_refund.value.code == "refund.unknown"
    with pytest.raises(ValueError, match="channel"), outbox.begin() as conn:
        place(conn, channel="kiosk")
    assert backlog(outbox) == 0
    with outbox.connect() as conn:
        kiosk = select(func.count()).where(orders.c.channel == "kiosk")
        assert conn.execute(kiosk).scalar_one() == 0  # the order went with it


def test_the_server_relay_thread_relays_and_merges_on_stop(outbox: Engine, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    worker = OutboxRelay(
        database=outbox, lake=lake, lock_path=tmp_path / "relay.lock", interval=0.05
    )
    # Another process holding the lock relays; this one waits to take over.
    other = LeaderLock(tmp_path / "relay.lock")
    assert other.held()
    worker.start()
    try:
        with outbox.begin() as conn:
            placed = [place(conn) for _ in range(3)]
        time.sleep(0.3)
        assert backlog(outbox) == 3
        other.release()
        deadline = time.monotonic() + 30
        while backlog(outbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backlog(outbox) == 0
    finally:
        worker.stop()
    # Stopping merged what the ticks staged.
    ids = [r["order_id"] for r in lake_rows(lake, "ods", "orders")]
    assert sorted(ids) == sorted(placed)


def test_the_relay_command_relays_the_outbox(
    outbox: Engine, database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    with outbox.begin() as conn:
        placed = place(conn)
    app = typer.Typer()
    app.add_typer(trade_app, name="trade")
    result = CliRunner().invoke(app, ["trade", "relay", "--once"])
    assert result.exit_code == 0, result.output
    assert "relayed 1 outbox rows" in result.output
    assert "0 waiting" in result.output
    lake = Lake(get_settings().lake_dir)
    assert [r["order_id"] for r in lake_rows(lake, "ods", "orders")] == [placed]


# --- the lake build, and a relay killed between the lake write and the mark ------------------------


@pytest.fixture(scope="module")
def chain_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated chain, ingested and built once; each test works on a copy."""
    tmp = tmp_path_factory.mktemp("chain")
    generate(
        SimConfig(members=100, stores=2, days=7, seed=1),
        out=tmp / "chain",
        progress=SilentProgress(),
    )
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return lake.root


@pytest.fixture
def lake(chain_lake: Path, tmp_path: Path) -> Iterator[Lake]:
    shutil.copytree(chain_lake, tmp_path / "lake")
    yield Lake(tmp_path / "lake")


@pytest.mark.slow
def test_relayed_orders_become_dwd_orders_and_person_days(outbox: Engine, lake: Lake) -> None:
    with outbox.begin() as conn:
        placed = [place(conn, coupon=i < 2) for i in range(3)]
        refund(conn, placed[0], amount=500, reason="quality", at=NOW + dt.timedelta(hours=1))
    relay_once(outbox, lake, now=NOW)
    build(lake=lake)

    dwd = lake_rows(lake, "dwd", "orders", "source = 'oms'")
    assert sorted(r["order_id"] for r in dwd) == sorted(placed)
    assert len(lake_rows(lake, "dwd", "order_lines", "source = 'oms'")) == 6
    assert len(lake_rows(lake, "dwd", "refunds", "source = 'oms'")) == 1
    (day,) = lake_rows(
        lake,
        "dws",
        "person_day",
        f"identity_source = 'app' AND identity_record_id = '{RECORD}'",
    )
    assert day["business_date"] == DAY
    assert (day["orders"], day["paid_minor"], day["items"]) == (3, 2 * 5100 + 6100, 9)
    assert day["coupons_redeemed"] == 2
    assert day["currency"] == "CNY"
    store_day = lake_rows(lake, "dws", "store_day", f"store_id = '{STORE}'")
    (today,) = [r for r in store_day if r["business_date"] == DAY]
    assert today["refunds"] >= 1


KILLED_RELAY = """
import datetime as dt, os, signal, sys
from pathlib import Path
from newretail.lake import Lake
from newretail.oltp import make_engine
from newretail.trade import relay

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

relay._mark_relayed = killed  # the lake write is done and durable; die before marking
url, root, compact = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "compact"
relay.relay_once(make_engine(url), Lake(root), now=dt.datetime.now(dt.UTC), compact=compact)
"""


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["compact", "staged"])
def test_a_relay_killed_before_marking_leaves_one_copy_after_the_next(
    outbox: Engine, database_url: str, lake: Lake, stage: str
) -> None:
    with outbox.begin() as conn:
        placed = [place(conn, coupon=i % 2 == 0) for i in range(4)]
        refund(conn, placed[1], amount=300, reason="late", at=NOW)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", KILLED_RELAY, database_url, str(lake.root), stage],
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    assert backlog(outbox) == 5  # nothing was marked
    ods_before = lake_rows(lake, "ods", "orders", "source = 'oms'")
    assert len(ods_before) == (4 if stage == "compact" else 0)

    result = relay_once(outbox, lake, now=NOW)
    assert result.outbox_rows == 5
    assert backlog(outbox) == 0
    # What the killed relay wrote (or staged) is there once, not twice.
    assert result.added == (0 if stage == "compact" else 4 + 8 + 2 + 1)
    ods = lake_rows(lake, "ods", "orders", "source = 'oms'")
    assert sorted(r["order_id"] for r in ods) == sorted(placed)
    assert len(lake_rows(lake, "ods", "order_lines", "source = 'oms'")) == 8
    assert len(lake_rows(lake, "ods", "coupon_redemptions", "source = 'oms'")) == 2
    assert len(lake_rows(lake, "ods", "refunds", "source = 'oms'")) == 1

    build(lake=lake)
    dwd = [r["order_id"] for r in lake_rows(lake, "dwd", "orders", "source = 'oms'")]
    assert sorted(dwd) == sorted(placed)
    assert len(lake_rows(lake, "dwd", "order_lines", "source = 'oms'")) == 8
