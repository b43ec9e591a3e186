"""A tiny chain written straight into the lake for the inventory health and supplier view tests:
stores S1 and S2 served by DC W1, three materials from suppliers V1 and V2, two weeks of stock
(2026-03-02 .. 2026-03-15), waste by reason, sales, purchase orders to W1 and a published forecast.

Stock follows simple rules (a fixed daily need, receipts every third day) so the tests can recompute
every figure from ``Chain.stock`` and ``Chain.waste`` with plain Python. S1 misses a milk delivery
and runs out; S2 does not trade on the last day, when its cups are counted empty (that day must not
count); the DC holds syrup it never ships.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from newretail.lake import Lake
from newretail.lake.storage import Layer
from newretail.model import dwd, dws
from newretail.model.spec import TableSpec
from newretail.supply.forecast.publish import RUNS_DIR, PublishedRun

FIRST = dt.date(2026, 3, 2)  # a Monday
DAYS = 14
LAST = FIRST + dt.timedelta(days=DAYS - 1)
STORES = ("S1", "S2")
DC = "W1"
# material: (supplier, core, unit, pack size, pack cost in fen, shelf life)
MATERIALS = {
    "M1": ("V1", True, "ml", 1000, 1200, 8),
    "M2": ("V2", True, "piece", 50, 1000, 365),
    "M3": ("V1", False, "ml", 750, 4500, 90),
}
# product: (launched, retired, {material: base units per unit})
PRODUCTS = {
    "P1": (dt.date(2025, 1, 1), None, {"M1": 200, "M2": 1}),
    "P2": (dt.date(2025, 1, 1), None, {"M3": 20, "M2": 1}),
    "P3": (dt.date(2025, 1, 1), dt.date(2026, 3, 8), {"M2": 1}),
    "P4": (dt.date(2026, 4, 1), None, {"M2": 1}),
}
# Units sold per store and product on a trading day; P3 sells nothing at S2.
SALES = {("S1", "P1"): 10, ("S1", "P2"): 3, ("S1", "P3"): 1, ("S2", "P1"): 6, ("S2", "P2"): 2}
WASTE = [  # (location, material, day offset, reason, base units)
    ("S1", "M1", 3, "expiry", 500),
    ("S1", "M1", 9, "expiry", 250),
    ("S1", "M3", 4, "prep", 30),
    ("S2", "M2", 2, "damage", 10),
    ("S2", "M1", 10, "quality", 333),
    ("W1", "M2", 8, "damage", 50),
]


@dataclass
class Chain:
    """What was written, one dict per row: store_material_day, waste movements, store_product_day."""

    stock: list[dict[str, Any]] = field(default_factory=list)
    waste: list[dict[str, Any]] = field(default_factory=list)
    sales: list[dict[str, Any]] = field(default_factory=list)


def day(offset: int) -> dt.date:
    return FIRST + dt.timedelta(days=offset)


def trades(store: str, offset: int) -> bool:
    return not (store == "S2" and offset == DAYS - 1)


def write_chain(lake: Lake, *, forecast: bool = True) -> Chain:
    _dimensions(lake)
    chain = Chain()
    _sales(lake, chain)
    _stock(lake, chain)
    _movements(lake, chain)
    _orders(lake)
    if forecast:
        _forecast(lake)
    return chain


def rows_of(spec: TableSpec, rows: Sequence[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in spec.schema},
        schema=spec.schema,
    )


def write_dated(lake: Lake, layer: Layer, spec: TableSpec, rows: Sequence[dict[str, Any]]) -> None:
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["business_date"], []).append(row)
    for date, group in sorted(by_day.items()):
        lake.write_partition(layer, spec.name, {"business_date": date}, rows_of(spec, group))


def _dimensions(lake: Lake) -> None:
    erp = {"source": "erp"}
    stores = [
        {
            **erp,
            "store_id": s,
            "name": f"Store {s}",
            "city": "Shanghai",
            "country": "CN",
            "timezone": "Asia/Shanghai",
            "currency": "CNY",
            "format": "standard",
            "opened_on": dt.date(2024, 1, 1),
            "latitude": 31.2 + i / 100,
            "longitude": 121.4,
            "warehouse_id": DC,
        }
        for i, s in enumerate(STORES)
    ]
    dc = {
        **erp,
        "warehouse_id": DC,
        "name": "DC Shanghai",
        "city": "Shanghai",
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "latitude": 31.0,
        "longitude": 121.3,
        "lead_time_days": 1,
    }
    suppliers = [
        {**erp, "supplier_id": v, "name": f"Supplier {v}", "country": "CN", "lead_time_days": 2}
        for v in ("V1", "V2")
    ]
    materials = [
        {
            **erp,
            "material_id": m,
            "name": f"Material {m}",
            "unit": unit,
            "pack_size": pack,
            "shelf_life_days": life,
            "storage": "chilled",
            "supplier_id": supplier,
            "is_core": core,
            "currency": "CNY",
            "pack_cost_minor": cost,
        }
        for m, (supplier, core, unit, pack, cost, life) in MATERIALS.items()
    ]
    products = [
        {
            **erp,
            "product_id": p,
            "name": p,
            "name_en": p,
            "category": "coffee",
            "launched_on": launched,
            "retired_on": retired,
        }
        for p, (launched, retired, _) in PRODUCTS.items()
    ]
    bom = [
        {**erp, "product_id": p, "material_id": m, "quantity": q}
        for p, (_, _, parts) in PRODUCTS.items()
        for m, q in parts.items()
    ]
    for name, rows in (
        ("stores", stores),
        ("warehouses", [dc]),
        ("suppliers", suppliers),
        ("materials", materials),
        ("products", products),
        ("bill_of_materials", bom),
    ):
        lake.write_partition("dwd", name, {}, rows_of(dwd.table(name), rows))


def _listed(product: str, date: dt.date) -> bool:
    launched, retired, _ = PRODUCTS[product]
    return launched <= date and (retired is None or date <= retired)


def _sold(store: str, offset: int) -> dict[str, int]:
    if not trades(store, offset):
        return {}
    return {p: units for (s, p), units in SALES.items() if s == store and _listed(p, day(offset))}


def _sales(lake: Lake, chain: Chain) -> None:
    chain.sales = [
        {"store_id": s, "product_id": p, "business_date": day(o), "currency": "CNY", "units": u}
        for o in range(DAYS)
        for s in STORES
        for p, u in _sold(s, o).items()
    ]
    write_dated(lake, "dws", dws.STORE_PRODUCT_DAY, chain.sales)


def _need(store: str, offset: int, material: str) -> int:
    return sum(u * PRODUCTS[p][2].get(material, 0) for p, u in _sold(store, offset).items())


# Base units received every third day per material and location; S1 misses its milk on day 3.
RECEIPTS = {
    "M1": {"S1": 7000, "S2": 4000, DC: 10_000},
    "M2": {"S1": 50, "S2": 50, DC: 100},
    "M3": {"S1": 750, "S2": 0, DC: 750},
}
# What the DC ships to stores every other day; it ships no syrup (held, never used).
SHIPPED = {"M1": 1000, "M2": 20, "M3": 0}


def _stock(lake: Lake, chain: Chain) -> None:
    wasted = {(loc, m, o): (reason, q) for loc, m, o, reason, q in WASTE}
    for location in (*STORES, DC):
        store = location != DC
        for m, (_, _, _, pack, _, _) in MATERIALS.items():
            on_hand = 3 * pack
            for o in range(DAYS):
                need = _need(location, o, m) if store else 0
                missed = location == "S1" and m == "M1" and o == 3
                receipts = RECEIPTS[m][location] if o % 3 == 0 and not missed else 0
                shipped = 0 if store or o % 2 == 0 else -SHIPPED[m]
                reason, asked = wasted.get((location, m, o), (None, 0))
                waste = -min(asked, on_hand + receipts + shipped)
                consumed = -min(need, on_hand + receipts + shipped + waste)
                adjustment = 0
                closing = on_hand + receipts + shipped + waste + consumed
                if location == "S2" and m == "M2" and o == DAYS - 1:
                    adjustment, closing = -closing, 0  # counted empty on a day it did not trade
                if waste:
                    chain.waste.append(_waste_row(location, m, o, reason, waste))
                chain.stock.append(
                    {
                        "location_type": "store" if store else "warehouse",
                        "location_id": location,
                        "material_id": m,
                        "business_date": day(o),
                        "opening_on_hand": on_hand,
                        "receipts": receipts,
                        "consumption": consumed,
                        "transfers_in": 0,
                        "transfers_out": shipped,
                        "waste": waste,
                        "waste_expiry": waste if reason == "expiry" else 0,
                        "adjustments": adjustment,
                        "closing_on_hand": closing,
                        "count_variance": 0,
                        "bom_demand": need,
                        "stock_out": closing <= 0 or -consumed < need,
                    }
                )
                on_hand = closing
    write_dated(lake, "dws", dws.STORE_MATERIAL_DAY, chain.stock)


def _waste_row(location: str, m: str, o: int, reason: str | None, quantity: int) -> dict[str, Any]:
    return {
        "source": "erp",
        "movement_id": f"W-{location}-{m}-{o}",
        "location_type": "warehouse" if location == DC else "store",
        "location_id": location,
        "material_id": m,
        "kind": "waste",
        "quantity": quantity,
        "waste_reason": reason,
        "occurred_at": dt.datetime.combine(day(o), dt.time(20), tzinfo=dt.UTC),
        "business_date": day(o),
    }


def _movements(lake: Lake, chain: Chain) -> None:
    write_dated(lake, "dwd", dwd.table("inventory_movements"), chain.waste)


# Purchase-order lines from V1 to W1: (po, material, ordered offset, expected offset, packs,
# [(delivered offset, packs)]); expected after LAST means not yet due.
ORDERS = [
    ("PO1", "M1", 1, 3, 10, [(3, 10)]),  # on time
    ("PO2", "M1", 4, 6, 10, [(7, 10)]),  # late
    ("PO3", "M3", 5, 7, 8, [(7, 5)]),  # short
    ("PO4", "M1", 9, 11, 6, []),  # never came: late
    ("PO5", "M1", 12, 15, 4, []),  # not yet due
    ("PO6", "M2", 2, 4, 7, [(4, 7)]),  # another supplier's (V2)
]


def _orders(lake: Lake) -> None:
    lines, received = [], []
    for po, m, ordered, expected, packs, deliveries in ORDERS:
        supplier = MATERIALS[m][0]
        lines.append(
            {
                "source": "erp",
                "po_id": po,
                "material_id": m,
                "from_type": "supplier",
                "from_id": supplier,
                "location_type": "warehouse",
                "location_id": DC,
                "packs": packs,
                "currency": "CNY",
                "pack_cost_minor": MATERIALS[m][4],
                "ordered_at": dt.datetime.combine(day(ordered), dt.time(9), tzinfo=dt.UTC),
                "expected_on": day(expected),
                "business_date": day(ordered),
            }
        )
        for n, (offset, got) in enumerate(deliveries):
            received.append(
                {
                    "source": "erp",
                    "delivery_id": f"D{po}{n}",
                    "po_id": po,
                    "material_id": m,
                    "location_type": "warehouse",
                    "location_id": DC,
                    "packs": got,
                    "expires_on": day(offset + 8),
                    "delivered_at": dt.datetime.combine(day(offset), dt.time(6), tzinfo=dt.UTC),
                    "business_date": day(offset),
                }
            )
    write_dated(lake, "dwd", dwd.table("purchase_orders"), lines)
    write_dated(lake, "dwd", dwd.table("deliveries"), received)


# Forecast per store and day (mean, sigma) of each material, for the three days after LAST.
FORECAST = {("S1", "M1"): (2000.0, 300.0), ("S2", "M1"): (1200.0, 400.0), ("S1", "M2"): (14.0, 4.0)}
FORECAST_DAYS = 3


def _forecast(lake: Lake) -> None:
    rows = [
        {
            "location_id": s,
            "material_id": m,
            "business_date": LAST + dt.timedelta(days=h + 1),
            "mean_quantity": mean + h,
            "sigma_quantity": sigma,
            "lo80_quantity": 0.0,
            "hi80_quantity": 0.0,
        }
        for (s, m), (mean, sigma) in FORECAST.items()
        for h in range(FORECAST_DAYS)
    ]
    lake.write_partition("ads", "material_forecast", {"origin": LAST}, pa.Table.from_pylist(rows))
    run = PublishedRun(
        origin=LAST,
        horizon=FORECAST_DAYS,
        model="ets_share",
        created_at=dt.datetime.combine(LAST, dt.time(23), tzinfo=dt.UTC),
        product_dispersion=1.0,
        store_dispersion=1.0,
        material_dispersion=dict.fromkeys(MATERIALS, 1.0),
        backtest_origins=[],
        rows={"material_forecast": len(rows)},
    )
    runs = lake.table_dir("ads", RUNS_DIR)
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{LAST.isoformat()}.json").write_text(json.dumps(run.as_json()))
