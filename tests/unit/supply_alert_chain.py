"""A hand-made chain for the alert tests, written straight into a lake: one DC (W1, two days to its
stores) and five stores, milk (M1, ml, packs of 1000) and croissants (M2, pieces, packs of 10,
usable two days), the day's closing counts, purchase orders, deliveries and a published forecast.

As of the close of ``AS_OF`` exactly these alerts hold (the figures worked out by hand beside
them):

- stockout S2/M1: 1500 ml on hand, 1000 a day forecast, nothing coming: lasts one whole day
  (cover 1 < lead 2), 500 ml short before the next delivery; high.
- stockout S4/M1: 500 on hand and 2000 coming on AS_OF + 3, too late: short tomorrow; critical.
- late_delivery W1/M1: 60 packs from V1 expected yesterday, nothing delivered; high.
- short_delivery S2/M2: 3 packs ordered, 1 delivered today; high (less than half).
- expiring S1/M2: 12 croissants on hand, all from today's lot usable until tomorrow, 4 sell
  tomorrow: 8 go to waste, 8 × 500 / 10 = 400 minor units; high.

And these hold no alert: S1/M1 just covered (2000 on hand = two days), S3/M1 short on its own but
saved by 2000 ml arriving tomorrow, S5/M1 not counted this week (unknown, not zero), S1/M2 covered
(12 on hand, 4 a day), W1's milk (its lots are usable for days), every zero-forecast cell.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pyarrow as pa

from newretail.lake import Lake
from newretail.lake.storage import Layer
from newretail.model import dwd, dws
from newretail.supply.forecast.publish import RUNS_DIR, PublishedRun

AS_OF = dt.date(2026, 3, 10)
STORES = ("S1", "S2", "S3", "S4", "S5")
FORECAST = {("S1", "M1"): 1000.0, ("S2", "M1"): 1000.0, ("S3", "M1"): 1000.0}
FORECAST |= {("S4", "M1"): 1000.0, ("S5", "M1"): 1000.0, ("S1", "M2"): 4.0}
COUNTS = {  # closing on hand at AS_OF
    ("store", "S1", "M1"): 2000,
    ("store", "S2", "M1"): 1500,
    ("store", "S3", "M1"): 500,
    ("store", "S4", "M1"): 500,
    ("store", "S1", "M2"): 12,
    ("store", "S2", "M2"): 0,
    ("warehouse", "W1", "M1"): 50_000,
}
EXPECTED = {
    "stockout/store/S2/M1/2026-03-10",
    "stockout/store/S4/M1/2026-03-10",
    "late_delivery/warehouse/W1/M1/2026-03-10",
    "short_delivery/store/S2/M2/2026-03-10",
    "expiring/store/S1/M2/2026-03-10",
}


def day(offset: int) -> dt.date:
    return AS_OF + dt.timedelta(days=offset)


def write_alert_chain(lake: Lake, *, forecast: bool = True, horizon: int = 7) -> None:
    """The chain above; without ``forecast`` no run is published."""
    _dimensions(lake)
    _dated(lake, "dws", "store_product_day", [_sale(s) for s in STORES])
    counts = [_count(*cell, on_hand) for cell, on_hand in COUNTS.items()]
    _dated(lake, "dws", "store_material_day", counts)
    _dated(lake, "dwd", "purchase_orders", _orders())
    _dated(lake, "dwd", "deliveries", _deliveries())
    if forecast:
        publish_forecast(lake, origin=AS_OF, horizon=horizon)


def publish_forecast(lake: Lake, *, origin: dt.date, horizon: int) -> None:
    rows = [
        {
            "location_id": store,
            "material_id": material,
            "business_date": origin + dt.timedelta(days=h + 1),
            "mean_quantity": mean,
            "sigma_quantity": mean / 4,
            "lo80_quantity": mean / 2,
            "hi80_quantity": mean * 1.5,
        }
        for (store, material), mean in FORECAST.items()
        for h in range(horizon)
    ]
    lake.write_partition("ads", "material_forecast", {"origin": origin}, pa.Table.from_pylist(rows))
    run = PublishedRun(
        origin=origin,
        horizon=horizon,
        model="hand_made",
        created_at=dt.datetime.combine(origin, dt.time(22), tzinfo=dt.UTC),
        product_dispersion=1.0,
        store_dispersion=1.0,
        material_dispersion={"M1": 1.0, "M2": 1.0},
        backtest_origins=[],
        rows={"material_forecast": len(rows)},
    )
    runs = lake.table_dir("ads", RUNS_DIR)
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{origin.isoformat()}.json").write_text(json.dumps(run.as_json()))


def _dimensions(lake: Lake) -> None:
    place = {"city": "Shanghai", "country": "CN", "timezone": "Asia/Shanghai"}
    where = {"latitude": 31.2, "longitude": 121.5}
    stores = [
        {
            "source": "erp",
            "store_id": s,
            "name": s,
            **place,
            "currency": "CNY",
            "format": "standard",
            "opened_on": dt.date(2025, 1, 1),
            **where,
            "warehouse_id": "W1",
        }
        for s in STORES
    ]
    dcs = [
        {"source": "erp", "warehouse_id": "W1", "name": "W1", **place, **where, "lead_time_days": 2}
    ]
    suppliers = [
        {"source": "erp", "supplier_id": "V1", "name": "V1", "country": "CN", "lead_time_days": 3}
    ]
    products = [
        {
            "source": "erp",
            "product_id": p,
            "name": p,
            "category": "drinks",
            "launched_on": dt.date(2025, 1, 1),
        }
        for p in ("P1", "P2")
    ]
    materials = [
        _material("M1", "ml", pack=1000, shelf=8, cost=1200),
        _material("M2", "piece", pack=10, shelf=2, cost=500),
    ]
    bom = [
        {"source": "erp", "product_id": "P1", "material_id": "M1", "quantity": 200},
        {"source": "erp", "product_id": "P2", "material_id": "M2", "quantity": 1},
    ]
    for name, rows in (
        ("stores", stores),
        ("warehouses", dcs),
        ("suppliers", suppliers),
        ("products", products),
        ("materials", materials),
        ("bill_of_materials", bom),
    ):
        table = pa.Table.from_pylist(rows, schema=dwd.table(name).schema)
        lake.write_partition("dwd", name, {}, table)


def _material(
    material_id: str, unit: str, *, pack: int, shelf: int, cost: int
) -> dict[str, object]:
    return {
        "source": "erp",
        "material_id": material_id,
        "name": material_id,
        "unit": unit,
        "pack_size": pack,
        "shelf_life_days": shelf,
        "storage": "chilled",
        "supplier_id": "V1",
        "is_core": True,
        "currency": "CNY",
        "pack_cost_minor": cost,
    }


def _sale(store: str) -> dict[str, object]:
    return {"store_id": store, "product_id": "P1", "business_date": AS_OF, "units": 5}


def _count(
    location_type: str, location_id: str, material_id: str, on_hand: int
) -> dict[str, object]:
    return {
        "location_type": location_type,
        "location_id": location_id,
        "material_id": material_id,
        "business_date": AS_OF,
        "closing_on_hand": on_hand,
        "stock_out": on_hand == 0,
    }


def _order(
    po: str, to: tuple[str, str], material: str, packs: int, ordered: int, expected: int
) -> dict[str, object]:
    location_type, location_id = to
    return {
        "source": "erp",
        "po_id": po,
        "material_id": material,
        "from_type": "warehouse" if location_type == "store" else "supplier",
        "from_id": "W1" if location_type == "store" else "V1",
        "location_type": location_type,
        "location_id": location_id,
        "packs": packs,
        "currency": "CNY",
        "pack_cost_minor": 1200,
        "ordered_at": dt.datetime.combine(day(ordered), dt.time(14), tzinfo=dt.UTC),
        "expected_on": day(expected),
        "business_date": day(ordered),
    }


def _orders() -> list[dict[str, object]]:
    return [
        _order("PO-S3", ("store", "S3"), "M1", 2, ordered=-1, expected=1),  # in time
        _order("PO-S4", ("store", "S4"), "M1", 2, ordered=0, expected=3),  # too late
        _order("PO-S2", ("store", "S2"), "M2", 3, ordered=-2, expected=0),  # delivered short
        _order("PO-S1", ("store", "S1"), "M2", 2, ordered=-1, expected=0),  # delivered in full
        _order("PO-W1", ("warehouse", "W1"), "M1", 60, ordered=-4, expected=-1),  # late
        _order("PO-W1-OLD", ("warehouse", "W1"), "M1", 60, ordered=-6, expected=-3),  # delivered
    ]


def _delivery(
    po: str, to: tuple[str, str], material: str, packs: int, received: int, expires: int
) -> dict[str, object]:
    location_type, location_id = to
    return {
        "source": "erp",
        "delivery_id": f"GR-{po}",
        "po_id": po,
        "material_id": material,
        "location_type": location_type,
        "location_id": location_id,
        "packs": packs,
        "expires_on": day(expires),
        "delivered_at": dt.datetime.combine(day(received), dt.time(6), tzinfo=dt.UTC),
        "business_date": day(received),
    }


def _deliveries() -> list[dict[str, object]]:
    return [
        _delivery("PO-S2", ("store", "S2"), "M2", 1, received=0, expires=1),
        _delivery("PO-S1", ("store", "S1"), "M2", 2, received=0, expires=1),
        _delivery("PO-W1-OLD", ("warehouse", "W1"), "M1", 60, received=-3, expires=5),
    ]


def _dated(lake: Lake, layer: Layer, name: str, rows: Iterable[dict[str, object]]) -> None:
    """One partition per business day, as the lake's build writes them."""
    spec = dws.table(name) if layer == "dws" else dwd.table(name)
    by_day: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_day.setdefault(str(row["business_date"]), []).append(row)
    for when, found in by_day.items():
        table = pa.Table.from_pylist(found, schema=spec.schema)
        lake.write_partition(layer, name, {"business_date": when}, table)
