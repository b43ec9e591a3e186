"""Assembling an inventory health report: the figures of each group, the chain and the weekly trend,
with the waste and aging detail, all computed by the lake's engine (DuckDB or Spark)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.lake.engines import Engine
from newretail.lake.storage import Lake
from newretail.supply.health.aging import VALUE_COLUMNS, aging_lines
from newretail.supply.health.inputs import (
    Request,
    Tables,
    check_request,
    check_stores,
    in_scope,
    materials,
)
from newretail.supply.health.model import AGE_BUCKET_DAYS, GroupBy, HealthReport, HealthRow
from newretail.supply.health.products import Window, product_figures
from newretail.supply.health.stock import day_facts, group_figures
from newretail.supply.health.waste import waste_by_key, waste_facts, waste_lines

Grouping = GroupBy | Literal["chain"]
CHAIN: Literal["chain"] = "chain"


def inventory_health(
    lake: Lake,
    engine: Engine,
    *,
    first: dt.date,
    last: dt.date,
    group_by: str = "store",
    stores: frozenset[str] | None = None,
) -> HealthReport:
    """Inventory health over ``first`` .. ``last`` grouped by store, DC, material or week, limited
    to ``stores`` (and no DCs) unless it is None.

    :class:`InvalidInput` names the bad field (``from`` after ``to``, an unknown grouping or store);
    :class:`NoData` when the lake has no stock yet.
    """
    request = check_request(first, last, group_by, stores)
    tables = Tables(lake, engine)
    tables.require("dws", "store_material_day")
    try:
        check_stores(tables, stores)
        return _report(tables, request)
    finally:
        engine.release()


class _Inputs:
    """The expressions every grouping is computed from."""

    def __init__(self, tables: Tables, request: Request) -> None:
        first, last, scope = request.first, request.last, request.stores
        self.request = request
        self.materials, self.currency = materials(tables)
        self.facts = day_facts(
            in_scope(tables.dated("dws", "store_material_day", first, last), scope),
            self.materials,
        )
        self.waste = waste_facts(
            in_scope(tables.dated("dwd", "inventory_movements", first, last), scope),
            self.materials,
        )
        recent = tables.dated(
            "dws", "store_material_day", last - dt.timedelta(days=AGE_BUCKET_DAYS[-1]), last
        )
        self.aging = aging_lines(in_scope(recent, scope), self.materials, last)
        self.sales = tables.dated("dws", "store_product_day", first, last)
        self.products = tables.whole("products")
        self.stores = tables.whole("stores")


def _report(tables: Tables, request: Request) -> HealthReport:
    inputs = _Inputs(tables, request)
    engine = tables.engine
    aging = _run(engine, inputs.aging, "aging")
    waste = _run(engine, waste_lines(inputs.waste), "waste")
    # The chain, its weeks and its materials come with every report (the trend and the charts).
    groupings: tuple[Grouping, ...] = (CHAIN, "week", "material")
    if request.group_by not in groupings:
        groupings += (request.group_by,)
    # One query per kind of figure for every grouping at once: each query has a fixed cost.
    stock = _keyed(
        _run(
            engine,
            _stack(
                [
                    group_figures(
                        _own(inputs.facts, g),
                        _key(_own(inputs.facts, g), g),
                        network=g in ("material", "week", CHAIN),
                    ),
                    g,
                ]
                for g in groupings
            ),
            "stock",
        )
    )
    wasted: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    waste_expr = _stack(
        [waste_by_key(_own(inputs.waste, g), _key(_own(inputs.waste, g), g)), g] for g in groupings
    )
    for row in _run(engine, waste_expr, "waste by group").to_pylist():
        wasted[row["grouping"], row["key"]][row["reason"]] = row["cost_minor"]
    with_products = [g for g in groupings if g in ("store", "week", CHAIN)]
    products = {
        (r["grouping"], r["key"]): (int(r["products_listed"]), int(r["products_sold"]))
        for r in _run(
            engine, _stack([_products(inputs, g), g] for g in with_products), "products"
        ).to_pylist()
    }
    rows = {
        g: _rows(g, stock, wasted, products if g in with_products else None, aging)
        for g in groupings
    }
    chain = rows[CHAIN]
    return HealthReport(
        first=request.first,
        last=request.last,
        group_by=request.group_by,
        stores=request.stores,
        currency=inputs.currency,
        rows=rows[request.group_by],
        chain=chain[0] if chain else _empty(CHAIN),
        weeks=rows["week"],
        materials=rows["material"],
        waste=waste,
        aging=aging,
    )


def _run(engine: Engine, expr: ir.Table, label: str) -> pa.Table:
    return engine.execute(expr, schema=expr.schema().to_pyarrow(), label=f"health {label}")


def _stack(parts: Iterable[list[Any]]) -> ir.Table:
    """Per-grouping expressions of one shape, stacked with a ``grouping`` column."""
    tables = [table.mutate(grouping=ibis.literal(str(g))) for table, g in parts]
    return tables[0].union(*tables[1:]) if len(tables) > 1 else tables[0]


def _keyed(table: pa.Table) -> dict[tuple[str, str], dict[str, int]]:
    found = {}
    for row in table.to_pylist():
        grouping, key = row.pop("grouping"), row.pop("key")
        found[grouping, key] = row
    return found


def _rows(
    grouping: Grouping,
    stock: dict[tuple[str, str], dict[str, int]],
    wasted: dict[tuple[str, str], dict[str, int]],
    products: dict[tuple[str, str], tuple[int, int]] | None,
    aging: pa.Table,
) -> tuple[HealthRow, ...]:
    aged = None if grouping == "week" else _aging_by_key(aging, grouping)
    keys = sorted(key for g, key in set(stock) | set(wasted) | set(products or {}) if g == grouping)
    rows = []
    for key in keys:
        figures = stock.get((grouping, key), {})
        listed, sold = (products or {}).get((grouping, key), (0, 0))
        rows.append(
            HealthRow(
                key=key,
                stock_days=int(figures.get("stock_days", 0)),
                in_stock_days=int(figures.get("in_stock_days", 0)),
                stock_value_minor=int(figures.get("stock_value_minor", 0)),
                usage_cost_minor=int(figures.get("usage_cost_minor", 0)),
                materials_held=int(figures.get("materials_held", 0)),
                materials_used=int(figures.get("materials_used", 0)),
                products_listed=None if products is None else listed,
                products_sold=None if products is None else sold,
                waste_minor=dict(sorted(wasted.get((grouping, key), {}).items())),
                aging_minor=None if aged is None else aged.get(key, (0,) * len(VALUE_COLUMNS)),
            )
        )
    return tuple(rows)


def _own(table: ir.Table, grouping: Grouping) -> ir.Table:
    """A store's or DC's rows only, for the store and DC groupings."""
    if grouping == "store":
        return table.filter(table.location_type == "store")
    if grouping == "dc":
        return table.filter(table.location_type == "warehouse")
    return table


def _key(table: ir.Table, grouping: Grouping) -> ir.Value:
    """The group key as text (a week by its Monday, ISO)."""
    if grouping in ("store", "dc"):
        return table.location_id
    if grouping == "material":
        return table.material_id
    if grouping == "week":
        return table.week.strftime("%Y-%m-%d")
    return ibis.literal(CHAIN)


def _products(inputs: _Inputs, grouping: Grouping) -> ir.Table:
    first, last = inputs.request.first, inputs.request.last
    windows: list[Window] = _weeks(first, last) if grouping == "week" else [(CHAIN, first, last)]
    return product_figures(
        inputs.sales,
        inputs.products,
        inputs.stores,
        windows=windows,
        per_store=grouping == "store",
        scope=inputs.request.stores,
    )


def _weeks(first: dt.date, last: dt.date) -> list[Window]:
    """The ISO weeks touching the period, keyed by their Monday, each clipped to the period."""
    monday = first - dt.timedelta(days=first.weekday())
    windows = []
    while monday <= last:
        windows.append(
            (monday.isoformat(), max(monday, first), min(monday + dt.timedelta(days=6), last))
        )
        monday += dt.timedelta(days=7)
    return windows


def _aging_by_key(aging: pa.Table, grouping: Grouping) -> dict[str, tuple[int, ...]]:
    own = {"store": "store", "dc": "warehouse"}.get(grouping)
    summed: dict[str, list[int]] = defaultdict(lambda: [0] * len(VALUE_COLUMNS))
    for line in aging.to_pylist():
        if own is not None and line["location_type"] != own:
            continue
        key = (
            line["location_id"] if own else line["material_id"] if grouping == "material" else CHAIN
        )
        for i, column in enumerate(VALUE_COLUMNS):
            summed[key][i] += int(line[column])
    return {key: tuple(values) for key, values in summed.items()}


def _empty(key: str) -> HealthRow:
    return HealthRow(key, 0, 0, 0, 0, 0, 0, None, None, {}, None)
