"""Generate a tiny chain, ingest it, build the lake, and check DWS against sums over ODS and DWD
weather against the generator's calendar."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from tests.unit.lake.ods_fixture import read

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate
from newretail.sim.calendar import build_calendar
from newretail.sim.geography import CITIES

pytestmark = pytest.mark.slow
CONFIG = SimConfig(members=500, stores=5, days=14, seed=1)


def _ods(lake: Lake, name: str) -> pa.Table:
    schema = pa.schema([("source", pa.string()), ("business_date", pa.date32())])
    return ds.dataset(
        lake.root / "ods" / name, partitioning=ds.partitioning(schema, flavor="hive")
    ).to_table()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    tmp = tmp_path_factory.mktemp("chain")
    generate(CONFIG, out=tmp / "chain", progress=SilentProgress())
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return lake


def test_store_day_equals_sums_over_ods_orders(lake: Lake) -> None:
    orders = _ods(lake, "orders")
    copy = pc.and_(pc.equal(orders["source"], "pos"), pc.is_valid(orders["platform_order_ref"]))
    platform_ids = set(
        orders.filter(pc.is_in(orders["source"], pa.array(["meituan", "eleme"])))[
            "order_id"
        ].to_pylist()
    )
    kept_copies = [
        r for r in orders.filter(copy).to_pylist() if r["platform_order_ref"] not in platform_ids
    ]
    own = orders.filter(pc.invert(copy)).to_pylist()
    unique = {(r["source"], r["order_id"]): r for r in [*own, *kept_copies]}
    completed = [r for r in unique.values() if r["status"] == "completed"]
    store_day = read(lake, "dws", "store_day")
    assert pc.sum(store_day["orders"]).as_py() == len(unique)
    assert pc.sum(store_day["completed_orders"]).as_py() == len(completed)
    assert pc.sum(store_day["paid_minor"]).as_py() == sum(r["paid_minor"] for r in completed)
    assert pc.sum(store_day["gross_minor"]).as_py() == sum(r["gross_minor"] for r in completed)
    assert len(read(lake, "dwd", "orders")) == len(unique)


def test_units_agree_across_dws_tables(lake: Lake) -> None:
    items = pc.sum(read(lake, "dws", "store_day")["items"]).as_py()
    assert items == pc.sum(read(lake, "dws", "store_product_day")["units"]).as_py()
    assert items == pc.sum(read(lake, "dws", "store_hour")["items"]).as_py()
    person = read(lake, "dws", "person_day")
    assert (
        pc.sum(person["orders"]).as_py()
        == pc.sum(read(lake, "dws", "store_day")["member_orders"]).as_py()
    )


def test_stock_balances(lake: Lake) -> None:
    smd = read(lake, "dws", "store_material_day").to_pylist()
    counted = [r for r in smd if r["count_variance"] is not None]
    assert counted
    assert all(r["count_variance"] == 0 for r in counted)


def test_rebuild_is_incremental(lake: Lake) -> None:
    assert build(lake=lake).partitions_written == 0


def test_dates_are_the_ods_dates(lake: Lake) -> None:
    # A store-day exists for every day with orders, and only for days some store-day input has
    # (a rating or refund can arrive the day after the last order).
    def days(table: str) -> set[object]:
        if not (lake.root / "ods" / table).exists():  # a tiny chain may have no refund at all
            return set()
        return set(_ods(lake, table)["business_date"].to_pylist())

    inputs = ("orders", "ratings", "refunds", "complaints", "footfall", "coupon_redemptions")
    store_days = set(read(lake, "dws", "store_day")["business_date"].to_pylist())
    assert days("orders") <= store_days
    assert store_days <= set().union(*(days(t) for t in inputs))
    assert Path(lake.root / "_runs" / "runs.jsonl").exists()


def test_chain_summary_matches_the_built_orders(lake: Lake) -> None:
    from newretail.metrics import chain_summary

    orders = read(lake, "dwd", "orders").filter(pc.equal(pc.field("status"), "completed"))
    summary = chain_summary(lake, engine="duckdb")
    assert summary.completed_orders == orders.num_rows
    paid: dict[str, int] = {}
    for row in summary.monthly:
        paid[row["currency"]] = paid.get(row["currency"], 0) + row["paid_minor"]
    expected = orders.group_by("currency").aggregate([("paid_minor", "sum")])
    assert paid == dict(
        zip(expected["currency"].to_pylist(), expected["paid_minor_sum"].to_pylist(), strict=True)
    )
    days = orders["business_date"].to_pylist()
    assert (summary.first_date, summary.last_date) == (min(days), max(days))


def test_dwd_weather_is_the_calendar_demand_followed(lake: Lake) -> None:
    calendar = build_calendar(CONFIG.seed, CONFIG.start, CONFIG.days)
    expected = {
        (city.name, calendar.date(day)): (
            city.country,
            float(calendar.temp_c[day, c]),
            bool(calendar.rain[day, c]),
        )
        for day in range(CONFIG.days)
        for c, city in enumerate(CITIES)
    }
    rows = read(lake, "dwd", "weather").to_pylist()
    assert set(Counter((r["city"], r["business_date"]) for r in rows).values()) == {1}
    got = {(r["city"], r["business_date"]): (r["country"], r["temp_c"], r["rain"]) for r in rows}
    assert got == expected
    assert {r["source"] for r in rows} == {"weather"}
