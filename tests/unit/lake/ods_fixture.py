"""A tiny ODS with known answers: two stores, three days, re-deliveries, versions and POS copies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from newretail.lake.storage import Lake
from newretail.model import table
from newretail.model.spec import TableSpec

D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


def ts(day: dt.date, hhmmss: str) -> dt.datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=dt.UTC)


def arrow(spec: TableSpec, rows: Sequence[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in spec.schema},
        schema=spec.schema,
    )


def write(lake: Lake, name: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` of canonical table ``name`` into ODS, one file per partition."""
    spec = table(name)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(str(row[c]) for c in spec.partition_by)].append(row)
    for values, group in groups.items():
        lake.write_partition(
            "ods", name, dict(zip(spec.partition_by, values, strict=True)), arrow(spec, group)
        )


def _order(source: str, order_id: str, day: dt.date, **kw: Any) -> dict[str, Any]:
    base = {
        "source": source,
        "order_id": order_id,
        "channel": source,
        "store_id": "S1",
        "fulfilment": "takeaway",
        "status": "completed",
        "placed_at": ts(day, "08:00:00"),
        "currency": "CNY",
        "gross_minor": 0,
        "discount_minor": 0,
        "delivery_fee_minor": 0,
        "paid_minor": 0,
        "payment_method": "wechat_pay",
        "business_hour": 8,
        "business_date": day,
    }
    return {**base, **kw}


def _line(
    source: str,
    order_id: str,
    line_no: int,
    product: str,
    qty: int,
    price: int,
    day: dt.date,
    **kw: Any,
) -> dict[str, Any]:
    base = {
        "source": source,
        "order_id": order_id,
        "line_no": line_no,
        "product_id": product,
        "quantity": qty,
        "currency": "CNY",
        "unit_price_minor": price,
        "discount_minor": 0,
        "store_id": "S1",
        "business_date": day,
    }
    return {**base, **kw}


ORDERS = [
    # O1 arrives twice, identical: one survives.
    *[
        _order(
            "pos",
            "O1",
            D1,
            identity_source="pos",
            identity_record_id="C1",
            gross_minor=1000,
            discount_minor=100,
            paid_minor=900,
            accepted_at=ts(D1, "08:00:30"),
            made_at=ts(D1, "08:03:30"),
            completed_at=ts(D1, "08:05:00"),
            coupon_id="CP1",
        )
    ]
    * 2,
    _order(
        "app",
        "A1",
        D1,
        identity_source="app",
        identity_record_id="U1",
        fulfilment="delivery",
        gross_minor=600,
        delivery_fee_minor=500,
        paid_minor=1100,
        placed_at=ts(D1, "12:00:00"),
        made_at=ts(D1, "12:10:00"),
        promised_at=ts(D1, "12:30:00"),
        completed_at=ts(D1, "12:20:00"),
        business_hour=12,
    ),
    _order(
        "meituan",
        "MT1",
        D1,
        identity_source="meituan",
        identity_record_id="X1",
        fulfilment="delivery",
        gross_minor=800,
        paid_minor=800,
        placed_at=ts(D1, "12:40:00"),
        promised_at=ts(D1, "13:00:00"),
        completed_at=ts(D1, "13:10:00"),
        payment_method="platform",
        business_hour=12,
    ),
    # The POS copy of MT1: dropped in favour of meituan's record.
    _order(
        "pos",
        "PC1",
        D1,
        channel="meituan",
        fulfilment="delivery",
        gross_minor=800,
        paid_minor=800,
        platform_order_ref="MT1",
        payment_method="platform",
        business_hour=12,
    ),
    # A POS copy whose platform record never arrived: kept.
    _order(
        "pos",
        "PC2",
        D1,
        channel="eleme",
        fulfilment="delivery",
        gross_minor=300,
        paid_minor=300,
        platform_order_ref="EL9",
        payment_method="platform",
        business_hour=8,
    ),
    _order(
        "app",
        "A2",
        D1,
        identity_source="app",
        identity_record_id="U1",
        status="cancelled",
        gross_minor=500,
        paid_minor=500,
    ),
    # O2 in two versions: the one that progressed further (completed) wins.
    _order(
        "pos",
        "O2",
        D1,
        store_id="S2",
        currency="SGD",
        gross_minor=1500,
        paid_minor=1500,
        accepted_at=ts(D1, "09:00:00"),
        placed_at=ts(D1, "09:00:00"),
        business_hour=9,
    ),
    _order(
        "pos",
        "O2",
        D1,
        store_id="S2",
        currency="SGD",
        gross_minor=2000,
        paid_minor=2000,
        accepted_at=ts(D1, "09:00:00"),
        placed_at=ts(D1, "09:00:00"),
        made_at=ts(D1, "09:02:00"),
        completed_at=ts(D1, "09:03:00"),
        business_hour=9,
    ),
    _order(
        "pos",
        "O3",
        D2,
        identity_source="pos",
        identity_record_id="C1",
        gross_minor=1000,
        paid_minor=1000,
    ),
]

ORDER_LINES = [
    *[_line("pos", "O1", 1, "P1", 2, 500, D1, discount_minor=100)] * 2,
    _line("app", "A1", 1, "P2", 1, 600, D1),
    _line("meituan", "MT1", 1, "P2", 1, 800, D1),
    _line("pos", "PC1", 1, "P2", 1, 800, D1),
    _line("pos", "PC2", 1, "P1", 1, 300, D1),
    _line("app", "A2", 1, "P1", 1, 500, D1),
    _line("pos", "O2", 1, "P1", 4, 500, D1, store_id="S2", currency="SGD"),
    _line("pos", "O3", 1, "P1", 2, 500, D2),
]


def _identity(record: str, updated: dt.datetime, name: str) -> dict[str, Any]:
    return {
        "source": "app",
        "source_record_id": record,
        "app_uid": record,
        "name": name,
        "created_at": ts(D1, "00:00:00"),
        "updated_at": updated,
        "business_date": updated.date(),
    }


def _movement(
    mid: str, material: str, kind: str, qty: int, day: dt.date, reason: str | None = None
) -> dict[str, Any]:
    return {
        "source": "erp",
        "movement_id": mid,
        "location_type": "store",
        "location_id": "S1",
        "material_id": material,
        "kind": kind,
        "quantity": qty,
        "waste_reason": reason,
        "occurred_at": ts(day, "10:00:00"),
        "business_date": day,
    }


def _snapshot(material: str, on_hand: int, day: dt.date) -> dict[str, Any]:
    return {
        "source": "erp",
        "location_type": "store",
        "location_id": "S1",
        "material_id": material,
        "on_hand": on_hand,
        "counted_at": ts(day, "23:00:00"),
        "business_date": day,
    }


def _store(store_id: str, currency: str, country: str) -> dict[str, Any]:
    return {
        "source": "erp",
        "store_id": store_id,
        "name": store_id,
        "city": "X",
        "country": country,
        "timezone": "UTC",
        "currency": currency,
        "format": "standard",
        "opened_on": D1,
        "latitude": 0.0,
        "longitude": 0.0,
        "warehouse_id": "W1",
    }


def build_ods(lake: Lake) -> None:
    """Fill ``lake``'s ODS with the fixture chain."""
    write(lake, "stores", [_store("S1", "CNY", "CN"), _store("S2", "SGD", "SG")])
    write(
        lake,
        "products",
        [
            {"source": "erp", "product_id": p, "name": p, "category": "coffee", "launched_on": D1}
            for p in ("P1", "P2")
        ],
    )
    write(
        lake,
        "materials",
        [
            {
                "source": "erp",
                "material_id": m,
                "name": m,
                "unit": "g",
                "pack_size": 1000,
                "shelf_life_days": 10,
                "storage": "ambient",
                "supplier_id": "V1",
                "currency": "CNY",
                "pack_cost_minor": 5000,
            }
            for m in ("M1", "M2")
        ],
    )
    write(
        lake,
        "bill_of_materials",
        [
            {"source": "erp", "product_id": "P1", "material_id": "M1", "quantity": 10},
            {"source": "erp", "product_id": "P2", "material_id": "M1", "quantity": 5},
            {"source": "erp", "product_id": "P2", "material_id": "M2", "quantity": 1},
        ],
    )
    write(lake, "orders", ORDERS)
    write(lake, "order_lines", ORDER_LINES)
    write(
        lake,
        "refunds",
        [
            {
                "source": "service",
                "refund_id": "R1",
                "order_source": "app",
                "order_id": "A1",
                "store_id": "S1",
                "reason": "late",
                "currency": "CNY",
                "amount_minor": 200,
                "requested_at": ts(D1, "14:00:00"),
                "business_date": D1,
            },
        ],
    )
    write(
        lake,
        "complaints",
        [
            {
                "source": "service",
                "complaint_id": "K1",
                "store_id": "S1",
                "category": "late",
                "created_at": ts(D1, "14:00:00"),
                "business_date": D1,
            },
        ],
    )
    write(
        lake,
        "ratings",
        [
            {
                "source": "service",
                "rating_id": r,
                "order_source": "pos",
                "order_id": "O1",
                "store_id": "S1",
                "stars": stars,
                "rated_at": ts(D1, "15:00:00"),
                "business_date": D1,
            }
            for r, stars in (("RT1", 4), ("RT2", 2))
        ],
    )
    write(
        lake,
        "footfall",
        [
            {
                "source": "footfall",
                "store_id": "S1",
                "hour_start": ts(D1, f"{h:02d}:00:00"),
                "visitors": v,
                "business_hour": h,
                "business_date": D1,
            }
            for h, v in ((8, 30), (12, 20))
        ],
    )
    write(
        lake,
        "coupon_redemptions",
        [
            {
                "source": "crm",
                "coupon_id": "CP1",
                "order_source": "pos",
                "order_id": "O1",
                "store_id": "S1",
                "currency": "CNY",
                "discount_minor": 100,
                "redeemed_at": ts(D1, "08:00:00"),
                "business_date": D1,
            },
        ],
    )
    event = {
        "type": "track",
        "event": "Product Viewed",
        "occurred_at": ts(D1, "07:00:00"),
        "business_date": D1,
    }
    write(
        lake,
        "app_events",
        [
            {**event, "source": "app", "message_id": "E1", "user_id": "U1"},
            {**event, "source": "app", "message_id": "E1", "user_id": "U1"},
            {**event, "source": "mini_program", "message_id": "E2", "user_id": "OP1"},
            {**event, "source": "app", "message_id": "E3", "anonymous_id": "dev1"},
        ],
    )
    write(
        lake,
        "identity_records",
        [
            _identity("U1", ts(D1, "07:00:00"), "Ann"),
            _identity("U1", ts(D2, "07:00:00"), "Anne"),
            _identity("U2", ts(D1, "07:00:00"), "Bo"),
        ],
    )
    write(
        lake,
        "inventory_snapshots",
        [
            _snapshot("M1", 1000, D1),
            _snapshot("M2", 50, D1),
            _snapshot("M1", 1350, D2),
            _snapshot("M1", 0, D3),
        ],
    )
    write(
        lake,
        "inventory_movements",
        [
            _movement("V0", "M1", "consumption", -40, D1),
            _movement("V00", "M2", "consumption", -2, D1),
            _movement("V1", "M1", "receipt", 500, D2),
            _movement("V2", "M1", "consumption", -20, D2),
            _movement("V3", "M1", "waste", -30, D2, "expiry"),
            _movement("V4", "M1", "transfer_out", -100, D2),
            _movement("V5", "M2", "adjustment", -5, D2),
            _movement("V6", "M1", "consumption", -1350, D3),
        ],
    )


def read(lake: Lake, layer: str, name: str) -> pa.Table:
    """A whole DWD/DWS table with its Hive partition columns, as written."""
    partitioning = ds.partitioning(pa.schema([("business_date", pa.date32())]), flavor="hive")
    return ds.dataset(
        lake.root / layer / name, format="parquet", partitioning=partitioning
    ).to_table()


def rows(lake: Lake, layer: str, name: str) -> list[dict[str, object]]:
    return read(lake, layer, name).to_pylist()


def snapshot(lake: Lake, *layers: str) -> dict[str, tuple[int, bytes]]:
    """mtime and bytes of every output file, by path relative to the lake."""
    out = {}
    for layer in layers:
        for path in sorted((lake.root / layer).rglob("*.parquet")):
            out[str(path.relative_to(lake.root))] = (path.stat().st_mtime_ns, path.read_bytes())
    return out
