"""Inventory health on a hand-written two-store chain: every figure recomputed with plain Python from
the rows written to the lake; FIFO aging on hand-built receipts; bad input named by field; the same
report on Spark."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from tests.integration.spark_session import spark
from tests.integration.supply_health_lake import (
    DC,
    FIRST,
    LAST,
    MATERIALS,
    PRODUCTS,
    STORES,
    Chain,
    write_chain,
    write_dated,
)

from newretail.errors import InvalidInput, NoData
from newretail.lake import Engine, Lake, connect_engine
from newretail.model import dws
from newretail.supply.health import HealthReport, HealthRow, inventory_health

__all__ = ["spark"]  # a fixture


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Chain]:
    lake = Lake(tmp_path_factory.mktemp("health") / "lake")
    return lake, write_chain(lake)


@pytest.fixture
def engine() -> Iterator[Engine]:
    with connect_engine("duckdb") as runner:
        yield runner


def report(lake: Lake, engine: Engine, group_by: str, **options: Any) -> HealthReport:
    return inventory_health(lake, engine, first=FIRST, last=LAST, group_by=group_by, **options)


@pytest.fixture(scope="module")
def reports(chain: tuple[Lake, Chain]) -> dict[str, HealthReport]:
    """Reports by store and by DC (each also holds the chain's weeks and materials) and one for S2
    alone: each costs about a second of query compiling."""
    lake, _ = chain
    with connect_engine("duckdb") as runner:
        found = {g: report(lake, runner, g) for g in ("store", "dc")}
        found["S2"] = report(lake, runner, "week", stores=frozenset({"S2"}))
    return found


def worth(units: int, material: str) -> int:
    """Base units in fen, rounded half up."""
    _, _, _, pack, cost, _ = MATERIALS[material]
    return math.floor(Fraction(units * cost, pack) + Fraction(1, 2))


def usage(row: dict[str, Any]) -> int:
    return int(-row["consumption"] if row["location_type"] == "store" else -row["transfers_out"])


def expected(chain: Chain, rows: list[dict[str, Any]], *, network: bool) -> dict[str, Any]:
    """The figures of a group of stock rows, straight from the definitions."""
    demand: dict[tuple[str, dt.date], int] = defaultdict(int)
    for r in chain.stock:
        demand[r["location_id"], r["business_date"]] += r["bom_demand"]
    stores = [r for r in rows if r["location_type"] == "store"] if network else rows
    counted = [
        r
        for r in stores
        if MATERIALS[r["material_id"]][1]
        and (r["location_type"] == "warehouse" or demand[r["location_id"], r["business_date"]] > 0)
    ]
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in stores:
        cells[r["location_id"], r["material_id"]].append(r)
    held = [
        c
        for c in cells.values()
        if any(r["opening_on_hand"] > 0 or r["receipts"] > 0 or r["closing_on_hand"] > 0 for r in c)
    ]
    return {
        "stock_days": len(counted),
        "in_stock_days": sum(not r["stock_out"] for r in counted),
        "stock_value_minor": sum(worth(r["closing_on_hand"], r["material_id"]) for r in rows),
        "usage_cost_minor": sum(worth(usage(r), r["material_id"]) for r in stores),
        "materials_held": len(held),
        "materials_used": sum(any(usage(r) > 0 for r in c) for c in held),
    }


FIELDS = (
    "stock_days",
    "in_stock_days",
    "stock_value_minor",
    "usage_cost_minor",
    "materials_held",
    "materials_used",
)


def figures(row: HealthRow | None) -> dict[str, Any]:
    assert row is not None
    return {name: getattr(row, name) for name in FIELDS}


def waste_by(chain: Chain, key: str, value: str) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for w in chain.waste:
        if w[key] == value:
            found[w["waste_reason"]] += worth(-w["quantity"], w["material_id"])
    return dict(found)


def test_store_rows_follow_the_definitions(
    chain: tuple[Lake, Chain], reports: dict[str, HealthReport]
) -> None:
    _, written = chain
    result = reports["store"]
    assert [r.key for r in result.rows] == list(STORES)
    for store in STORES:
        row = result.row(store)
        assert row is not None
        rows = [r for r in written.stock if r["location_id"] == store]
        want = expected(written, rows, network=False)
        assert figures(row) == want
        assert row.waste_minor == waste_by(written, "location_id", store)
    s1, s2 = result.row("S1"), result.row("S2")
    assert s1 is not None and s2 is not None
    # S1 ran out of milk on two of its 14 trading days; S2's empty cups on a closed day do not count.
    assert (s1.in_stock_days, s1.stock_days) == (26, 28)
    assert (s2.in_stock_days, s2.stock_days, s2.in_stock_rate) == (26, 26, 1.0)
    assert s1.days_of_inventory == pytest.approx(s1.stock_value_minor / s1.usage_cost_minor)


def test_product_sell_through_counts_menu_products_per_store(
    chain: tuple[Lake, Chain], reports: dict[str, HealthReport]
) -> None:
    _, written = chain
    result = reports["store"]
    listed = [
        p for p, (on, off, _) in PRODUCTS.items() if on <= LAST and (off is None or off >= FIRST)
    ]
    for store in STORES:
        sold = {s["product_id"] for s in written.sales if s["store_id"] == store and s["units"] > 0}
        row = result.row(store)
        assert row is not None
        assert (row.products_listed, row.products_sold) == (len(listed), len(sold & set(listed)))
    assert result.chain.product_sell_through == pytest.approx(5 / 6)
    # P3 left the menu on the first Sunday: the second week lists two products per store.
    assert [(w.products_listed, w.products_sold) for w in result.weeks] == [(6, 5), (4, 4)]


def test_dc_rows_set_stock_against_shipments(
    chain: tuple[Lake, Chain], reports: dict[str, HealthReport]
) -> None:
    _, written = chain
    result = reports["dc"]
    assert [r.key for r in result.rows] == [DC]
    row = result.rows[0]
    rows = [r for r in written.stock if r["location_id"] == DC]
    assert figures(row) == expected(written, rows, network=False)
    assert row.material_sell_through == pytest.approx(2 / 3)  # syrup held, never shipped
    assert row.products_listed is None and row.product_sell_through is None
    assert row.waste_minor == waste_by(written, "location_id", DC)


def test_material_week_and_chain_rows_are_network_figures(
    chain: tuple[Lake, Chain], reports: dict[str, HealthReport]
) -> None:
    _, written = chain
    by_material = {row.key: row for row in reports["dc"].materials}
    assert list(by_material) == list(MATERIALS)
    for material in MATERIALS:
        row = by_material[material]
        rows = [r for r in written.stock if r["material_id"] == material]
        assert figures(row) == expected(written, rows, network=True)
        assert row.waste_minor == waste_by(written, "material_id", material)
    chain_row = reports["dc"].chain
    assert chain_row.stock_value_minor == sum(
        worth(r["closing_on_hand"], r["material_id"]) for r in written.stock
    )
    assert reports["store"].weeks == reports["dc"].weeks
    assert reports["store"].materials == reports["dc"].materials
    for week in reports["store"].weeks:
        monday = dt.date.fromisoformat(week.key)
        rows = [r for r in written.stock if 0 <= (r["business_date"] - monday).days < 7]
        assert figures(week) == expected(written, rows, network=True)
    assert figures(chain_row) == expected(written, written.stock, network=True)


def test_a_store_filter_leaves_out_other_stores_and_every_dc(
    chain: tuple[Lake, Chain], reports: dict[str, HealthReport]
) -> None:
    _, written = chain
    result = reports["S2"]
    rows = [r for r in written.stock if r["location_id"] == "S2"]
    assert figures(result.chain) == expected(written, rows, network=True)
    assert set(result.waste.column("location_id").to_pylist()) == {"S2"}
    assert set(result.aging.column("location_id").to_pylist()) == {"S2"}
    assert result.chain.products_listed == 3


@pytest.mark.parametrize(
    ("first", "last", "group_by", "stores", "field"),
    [
        (LAST, FIRST, "store", None, "from"),
        (FIRST - dt.timedelta(days=400), LAST, "store", None, "to"),
        (FIRST, LAST, "supplier", None, "group_by"),
        (FIRST, LAST, "dc", frozenset({"S1"}), "group_by"),
        (FIRST, LAST, "store", frozenset({"S1", "S9"}), "stores"),
    ],
)
def test_bad_input_names_its_field(
    chain: tuple[Lake, Chain],
    engine: Engine,
    first: dt.date,
    last: dt.date,
    group_by: str,
    stores: frozenset[str] | None,
    field: str,
) -> None:
    lake, _ = chain
    with pytest.raises(InvalidInput) as caught:
        inventory_health(lake, engine, first=first, last=last, group_by=group_by, stores=stores)
    assert caught.value.field == field


def test_an_empty_lake_has_no_stock_data(tmp_path: Path, engine: Engine) -> None:
    with pytest.raises(NoData) as caught:
        inventory_health(Lake(tmp_path), engine, first=FIRST, last=LAST)
    assert caught.value.code == "supply.no_stock_data"


def _stock_row(location: str, material: str, day: dt.date, **values: int) -> dict[str, Any]:
    return {
        "location_type": "store",
        "location_id": location,
        "material_id": material,
        "business_date": day,
        "receipts": values.get("receipts", 0),
        "transfers_in": values.get("transfers_in", 0),
        "closing_on_hand": values.get("closing", 0),
        "stock_out": False,
    }


def test_aging_is_first_in_first_out(tmp_path: Path, engine: Engine) -> None:
    """The newest receipts make up what is on hand; what they do not cover is older than 30 days."""
    lake = Lake(tmp_path / "lake")
    write_chain(lake, forecast=False)
    last = dt.date(2026, 5, 31)

    def ago(days: int) -> dt.date:
        return last - dt.timedelta(days=days)

    rows = [
        # M1 (1000 ml a pack at 12 yuan): 450 on hand = 100 (1 day) + 200 (5 days) + 150 of 300 (20).
        _stock_row("S1", "M1", ago(40), receipts=1000),
        _stock_row("S1", "M1", ago(20), receipts=300),
        _stock_row("S1", "M1", ago(5), receipts=150, transfers_in=50),
        _stock_row("S1", "M1", ago(1), receipts=100),
        _stock_row("S1", "M1", last, closing=450),
        # M2 (50 cups at 10 yuan): 1,700 on hand, 600 received lately (on the last day too).
        _stock_row("S1", "M2", ago(31), receipts=900),
        _stock_row("S1", "M2", ago(8), receipts=400),
        _stock_row("S1", "M2", last, receipts=200, closing=1700),
        # M3: nothing on hand, nothing to age.
        _stock_row("S1", "M3", ago(2), receipts=750),
        _stock_row("S1", "M3", last, closing=0),
    ]
    write_dated(lake, "dws", dws.STORE_MATERIAL_DAY, rows)
    result = inventory_health(lake, engine, first=ago(6), last=last, group_by="material")
    lines = {r["material_id"]: r for r in result.aging.to_pylist()}
    assert set(lines) == {"M1", "M2"}
    units = ("units_0-2", "units_3-7", "units_8-30", "units_31+")
    assert [lines["M1"][u] for u in units] == [100, 200, 150, 0]
    assert [lines["M2"][u] for u in units] == [200, 0, 400, 1100]
    assert [lines["M1"]["value_3-7_minor"], lines["M2"]["value_31+_minor"]] == [240, 22000]
    m1 = result.row("M1")
    assert m1 is not None and m1.aging_minor == (120, 240, 180, 0)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_gives_the_same_report(chain: tuple[Lake, Chain], spark: Any) -> None:
    lake, _ = chain
    with connect_engine("duckdb") as duck, connect_engine("spark", session=spark) as sp:
        on_duckdb, on_spark = report(lake, duck, "store"), report(lake, sp, "store")
    assert on_spark.rows == on_duckdb.rows
    assert on_spark.chain == on_duckdb.chain and on_spark.weeks == on_duckdb.weeks
    assert on_spark.waste.equals(on_duckdb.waste) and on_spark.aging.equals(on_duckdb.aging)
