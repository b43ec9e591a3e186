"""Inventory health on a generated, ingested and built chain, against the same figures computed with
plain pyarrow from the lake's files, and against the generator's true stock-outs."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from tests.unit.lake.ods_fixture import read

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake import Lake, build, connect_engine
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate
from newretail.supply.health import HealthReport, inventory_health

pytestmark = pytest.mark.slow
CONFIG = SimConfig(members=100, stores=2, days=14, seed=11)
FIRST, LAST = CONFIG.start + dt.timedelta(days=3), CONFIG.end


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Path]:
    tmp = tmp_path_factory.mktemp("health_chain")
    generate(CONFIG, out=tmp / "chain", progress=SilentProgress())
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return lake, tmp / "chain" / "truth"


@pytest.fixture(scope="module")
def by_store(built: tuple[Lake, Path]) -> HealthReport:
    with connect_engine("duckdb") as engine:
        return inventory_health(built[0], engine, first=FIRST, last=LAST, group_by="store")


def _dimension(lake: Lake, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(lake.files("dwd", name)).to_pylist()
    return rows


def _in_period(table: pa.Table) -> pa.Table:
    dates = table["business_date"]
    return table.filter(
        pc.and_(pc.greater_equal(dates, pa.scalar(FIRST)), pc.less_equal(dates, pa.scalar(LAST)))
    )


def _costs(lake: Lake) -> dict[str, tuple[int, int, bool]]:
    return {
        m["material_id"]: (m["pack_size"], m["pack_cost_minor"] or 0, bool(m["is_core"]))
        for m in _dimension(lake, "materials")
    }


def _worth(units: int, pack: int, cost: int) -> int:
    return math.floor(Fraction(units * cost, pack) + Fraction(1, 2))


def test_store_figures_match_plain_pyarrow(
    built: tuple[Lake, Path], by_store: HealthReport
) -> None:
    lake, _ = built
    costs = _costs(lake)
    smd = _in_period(read(lake, "dws", "store_material_day"))
    stores = smd.filter(pc.equal(smd["location_type"], pa.scalar("store"))).to_pylist()
    demand: dict[tuple[str, dt.date], int] = defaultdict(int)
    for r in stores:
        demand[r["location_id"], r["business_date"]] += r["bom_demand"] or 0
    want: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in stores:
        pack, cost, core = costs[r["material_id"]]
        figures = want[r["location_id"]]
        if core and demand[r["location_id"], r["business_date"]] > 0:
            figures["stock_days"] += 1
            figures["in_stock_days"] += not r["stock_out"]
        if r["closing_on_hand"] is not None:
            figures["stock_value_minor"] += _worth(max(r["closing_on_hand"], 0), pack, cost)
            figures["usage_cost_minor"] += _worth(-(r["consumption"] or 0), pack, cost)
    assert [row.key for row in by_store.rows] == sorted(want)
    for row in by_store.rows:
        got = {f: getattr(row, f) for f in want[row.key]}
        assert got == want[row.key], row.key
    total = by_store.chain
    assert total.in_stock_days == sum(w["in_stock_days"] for w in want.values())
    assert total.stock_days > 0 and 0.5 < (total.in_stock_rate or 0) <= 1


def test_waste_by_reason_matches_the_movements(
    built: tuple[Lake, Path], by_store: HealthReport
) -> None:
    lake, _ = built
    costs = _costs(lake)
    moves = _in_period(read(lake, "dwd", "inventory_movements"))
    waste = moves.filter(pc.equal(moves["kind"], pa.scalar("waste")))
    daily = waste.group_by(
        ["location_type", "location_id", "material_id", "waste_reason", "business_date"]
    ).aggregate([("quantity", "sum")])
    want: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in daily.to_pylist():
        pack, cost, _ = costs[r["material_id"]]
        want[r["location_id"]][r["waste_reason"]] += _worth(-r["quantity_sum"], pack, cost)
    assert want, "the chain wasted nothing: the test proves nothing"
    for row in by_store.rows:
        assert dict(row.waste_minor) == dict(want.get(row.key, {})), row.key
    lines = by_store.waste
    assert pc.sum(lines["units"]).as_py() == -pc.sum(waste["quantity"]).as_py()


def test_product_sell_through_matches_sales_and_the_menu(
    built: tuple[Lake, Path], by_store: HealthReport
) -> None:
    lake, _ = built
    sales = _in_period(read(lake, "dws", "store_product_day"))
    sold = {(r["store_id"], r["product_id"]) for r in sales.to_pylist() if (r["units"] or 0) > 0}
    listed = {
        (s["store_id"], p["product_id"])
        for s in _dimension(lake, "stores")
        for p in _dimension(lake, "products")
        if s["opened_on"] <= LAST
        and (s["closed_on"] is None or s["closed_on"] >= FIRST)
        and p["launched_on"] <= LAST
        and (p["retired_on"] is None or p["retired_on"] >= FIRST)
    }
    assert (by_store.chain.products_listed, by_store.chain.products_sold) == (
        len(listed),
        len(sold & listed),
    )


def test_aging_splits_exactly_the_closing_stock(
    built: tuple[Lake, Path], by_store: HealthReport
) -> None:
    lake, _ = built
    smd = read(lake, "dws", "store_material_day")
    closing = smd.filter(pc.equal(smd["business_date"], pa.scalar(LAST))).to_pylist()
    on_hand = {
        (r["location_id"], r["material_id"]): r["closing_on_hand"]
        for r in closing
        if (r["closing_on_hand"] or 0) > 0
    }
    aging = by_store.aging.to_pylist()
    assert {(r["location_id"], r["material_id"]): r["on_hand"] for r in aging} == on_hand
    buckets = ("units_0-2", "units_3-7", "units_8-30", "units_31+")
    assert all(sum(r[b] for b in buckets) == r["on_hand"] for r in aging)
    assert all(min(r[b] for b in buckets) >= 0 for r in aging)


def test_every_true_stock_out_of_a_core_material_is_counted_out(
    built: tuple[Lake, Path], by_store: HealthReport
) -> None:
    lake, truth = built
    core = {m for m, (_, _, is_core) in _costs(lake).items() if is_core}
    outs = _in_period(pq.read_table(truth / "stockouts.parquet")).to_pylist()
    per_store: dict[str, int] = defaultdict(int)
    for r in outs:
        if r["material_id"] in core:
            per_store[r["store_id"]] += 1
    for row in by_store.rows:
        assert row.stock_days - row.in_stock_days >= per_store.get(row.key, 0), row.key
