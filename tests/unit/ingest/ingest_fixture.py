"""Small hand-written declarations and source files for ingest tests (independent of the generator)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newretail.ingest.mapping import BusinessDate, Column, References, SourceFile

STORES = SourceFile(
    source="erp",
    kind="stores",
    pattern="erp/stores/*.csv",
    format="csv",
    table="stores",
    columns=(
        Column("store_id", source="code"),
        Column("name", source="name"),
        Column("city", source="city"),
        Column("country", source="country"),
        Column("timezone", source="tz"),
        Column("currency", source="currency"),
        Column("format", source="fmt", codes={"FS": "flagship", "ST": "standard"}),
        Column("floor_area_m2", source="area", parse="float"),
        Column("seats", source="seats", parse="int"),
        Column("opened_on", source="opened", parse="date"),
        Column("latitude", source="lat", parse="float"),
        Column("longitude", source="lon", parse="float"),
        Column("warehouse_id", source="dc"),
    ),
)
WAREHOUSES = SourceFile(
    source="erp",
    kind="warehouses",
    pattern="erp/warehouses.csv",
    format="csv",
    table="warehouses",
    columns=(
        Column("warehouse_id", source="id"),
        Column("name", source="name"),
        Column("city", source="city"),
        Column("country", source="country"),
        Column("timezone", source="tz"),
        Column("latitude", source="lat", parse="float"),
        Column("longitude", source="lon", parse="float"),
        Column("lead_time_days", source="lead", parse="int"),
    ),
)
PRODUCTS = SourceFile(
    source="erp",
    kind="products",
    pattern="erp/products.csv",
    format="csv",
    table="products",
    columns=(
        Column("product_id", source="sku"),
        Column("name", source="name"),
        Column("category", source="cat"),
        Column("launched_on", source="launched", parse="date"),
        Column("is_new", source="new", parse="bool"),
    ),
)
ORDERS = SourceFile(
    source="pos",
    kind="orders",
    pattern="pos/orders/*.csv",
    format="csv",
    table="orders",
    encoding="gbk",
    columns=(
        Column("order_id", source="单号"),
        Column("channel", const="pos"),
        Column("store_id", source="store"),
        Column("fulfilment", source="fulfil"),
        Column("status", source="status"),
        Column("placed_at", source="placed", parse="local_time"),
        Column("currency", source="ccy"),
        Column("gross_minor", source="gross", parse="money"),
        Column("discount_minor", source="discount", parse="money"),
        Column("paid_minor", source="paid", parse="money"),
        Column(
            "payment_method",
            source="pay",
            codes={"WX": "wechat_pay", "ZFB": "alipay", "XJ": "cash"},
        ),
    ),
    business_date=BusinessDate("placed_at", local=True, hour="business_hour"),
    tz_from="store_id",
    references=References(store=("store_id",)),
)
ORDER_LINES = SourceFile(
    source="pos",
    kind="order_lines",
    pattern="pos/lines/*.csv",
    format="csv",
    table="order_lines",
    columns=(
        Column("order_id", source="order"),
        Column("line_no", source="n", parse="int"),
        Column("product_id", source="sku"),
        Column("quantity", source="qty", parse="int"),
        Column("currency", source="ccy"),
        Column("unit_price_minor", source="price", parse="minor"),
        Column("discount_minor", source="disc", parse="minor"),
        Column("store_id", source="store"),
        Column("business_date", source="day", parse="date"),
    ),
    references=References(store=("store_id",), product=("product_id",)),
)
MEMBERS = SourceFile(
    source="crm",
    kind="members",
    pattern="crm/members/*.jsonl",
    format="jsonl",
    table="identity_records",
    columns=(
        Column("source_record_id", source="id"),
        Column("phone", source="mobile", parse="phone"),
        Column("email", source="mail", parse="email"),
        Column("name", source="name"),
        Column("gender", source="sex", codes={"1": "M", "2": "F", "0": "U"}),
        Column("birthday", source="birthday", parse="date"),
        Column("consent_sms", source="sms_ok", parse="bool"),
        Column("created_at", source="created", parse="utc_time"),
        Column("updated_at", source="updated", parse="utc_time"),
    ),
    business_date=BusinessDate("updated_at", local=False),
)
EVENTS = SourceFile(
    source="app",
    kind="events",
    pattern="app/events/*.parquet",
    format="parquet",
    table="app_events",
    columns=(
        Column("message_id", source="messageId"),
        Column("type", source="type"),
        Column("event", source="event"),
        Column("user_id", source="userId"),
        Column("store_id", source="storeId"),
        Column("occurred_at", source="ts", parse="utc_time"),
        Column("properties", source="props", parse="json"),
    ),
    business_date=BusinessDate("occurred_at", local=False),
)
SNAPSHOTS = SourceFile(
    source="erp",
    kind="inventory",
    pattern="erp/inventory/*.csv",
    format="csv",
    table="inventory_snapshots",
    columns=(
        Column("location_type", source="loc_type"),
        Column("location_id", source="loc"),
        Column("material_id", source="material"),
        Column("on_hand", source="qty", parse="int"),
        Column("counted_at", source="counted", parse="local_time"),
    ),
    business_date=BusinessDate("counted_at", local=True),
    tz_from="location_id",
    references=References(location=("location_id",)),
)
DECLARATIONS = (STORES, WAREHOUSES, PRODUCTS, ORDERS, ORDER_LINES, MEMBERS, EVENTS, SNAPSHOTS)

STORES_CSV = (
    "code,name,city,country,tz,currency,fmt,area,seats,opened,lat,lon,dc\n"
    "S001,Jing'an,Shanghai,CN,Asia/Shanghai,CNY,FS,120.5,40,20250101,31.2,121.4,W01\n"
    "S002,Orchard,Singapore,SG,Asia/Singapore,SGD,ST,80,20,2025-03-01,1.3,103.8,W02\n"
)
WAREHOUSES_CSV = (
    "id,name,city,country,tz,lat,lon,lead\n"
    "W01,East DC,Shanghai,CN,Asia/Shanghai,31.0,121.0,1\n"
    "W02,SG DC,Singapore,SG,Asia/Singapore,1.3,103.9,2\n"
)
PRODUCTS_CSV = (
    "sku,name,cat,launched,new\nP001,拿铁,coffee,2025-01-01,N\nP002,美式,coffee,2025-01-01,0\n"
)
ORDERS_HEADER = "单号,store,fulfil,status,placed,ccy,gross,discount,paid,pay\n"


def order_row(
    order_id: str,
    *,
    store: str = "S001",
    placed: str = "2026-01-03 10:15:00",
    gross: str = "18.50",
    pay: str = "WX",
    status: str = "completed",
) -> str:
    return f"{order_id},{store},dine_in,{status},{placed},CNY,{gross},0,{gross},{pay}\n"


def write_dimensions(root: Path) -> None:
    (root / "erp" / "stores").mkdir(parents=True, exist_ok=True)
    (root / "erp" / "stores" / "stores.csv").write_text(STORES_CSV, encoding="utf-8")
    (root / "erp" / "warehouses.csv").write_text(WAREHOUSES_CSV, encoding="utf-8")
    (root / "erp" / "products.csv").write_text(PRODUCTS_CSV, encoding="utf-8")


def write_orders(root: Path, name: str, rows: list[str]) -> Path:
    path = root / "pos" / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((ORDERS_HEADER + "".join(rows)).encode("gbk"))
    return path


def write_members(root: Path, name: str, records: list[dict[str, object]]) -> Path:
    path = root / "crm" / "members" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def write_events(root: Path, name: str, table: pa.Table) -> Path:
    path = root / "app" / "events" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def lake_listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the lake with its size and mtime (to prove nothing changed)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".writer.lock"
    }


def lake_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}
