"""The head-office ERP: stores, DCs, suppliers, products, prices, materials, BOM and stock exports."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, Column, Format, References, SourceFile
from newretail.ingest.sources.common import c, k


def _erp(
    kind: str,
    table: str,
    cols: tuple[Column, ...],
    fmt: Format = "csv",
    dated: bool = False,
    business_date: BusinessDate | None = None,
    refs: References | None = None,
) -> SourceFile:
    pattern = f"erp/{kind}/*.parquet" if dated else f"erp/{kind}.csv"
    return SourceFile(
        "erp",
        kind,
        pattern,
        fmt,
        table,
        columns=cols,
        business_date=business_date,
        tz_from="location_id" if dated else None,
        references=refs or References(),
    )


_DIMENSIONS = (
    _erp(
        "stores",
        "stores",
        (
            c("store_id", "store_code"),
            c("name", "store_name"),
            c("city", "city"),
            c("country", "country"),
            c("timezone", "tz"),
            c("currency", "currency"),
            c("format", "format"),
            c("floor_area_m2", "area_m2", "float"),
            c("seats", "seats", "int"),
            c("opened_on", "open_date", "date"),
            c("closed_on", "close_date", "date"),
            c("latitude", "lat", "float"),
            c("longitude", "lng", "float"),
            c("warehouse_id", "dc_code"),
        ),
    ),
    _erp(
        "warehouses",
        "warehouses",
        (
            c("warehouse_id", "dc_code"),
            c("name", "dc_name"),
            c("city", "city"),
            c("country", "country"),
            c("timezone", "tz"),
            c("latitude", "lat", "float"),
            c("longitude", "lng", "float"),
            c("lead_time_days", "lead_days", "int"),
            c("capacity_pallets", "pallets", "int"),
        ),
    ),
    _erp(
        "suppliers",
        "suppliers",
        (
            c("supplier_id", "vendor_code"),
            c("name", "vendor_name"),
            c("country", "country"),
            c("lead_time_days", "lead_days", "int"),
            c("min_order_packs", "moq_packs", "int"),
        ),
    ),
    _erp(
        "products",
        "products",
        (
            c("product_id", "sku"),
            c("name", "name_cn"),
            c("name_en", "name_en"),
            c("category", "category"),
            c("subcategory", "subcategory"),
            c("launched_on", "launch_date", "date"),
            c("retired_on", "retire_date", "date"),
            c("is_new", "is_new", "bool"),
        ),
    ),
    _erp(
        "product_prices",
        "product_prices",
        (
            c("product_id", "sku"),
            c("currency", "currency"),
            c("price_minor", "list_price", "money"),
            c("cost_minor", "std_cost", "money"),
            c("valid_from", "valid_from", "date"),
        ),
    ),
    _erp(
        "materials",
        "materials",
        (
            c("material_id", "material_code"),
            c("name", "material_name"),
            c("unit", "base_unit"),
            c("pack_size", "pack_size", "int"),
            c("shelf_life_days", "shelf_life_days", "int"),
            c("storage", "storage"),
            c("supplier_id", "vendor_code"),
            c("is_core", "is_core", "bool"),
            c("pack_cost_minor", "pack_cost", "money"),
            k("currency", "CNY"),
        ),
    ),
    _erp(
        "bom",
        "bill_of_materials",
        (c("product_id", "sku"), c("material_id", "material_code"), c("quantity", "qty", "int")),
    ),
)
_LOC = (c("location_type", "loc_type"), c("location_id", "loc_code"))
_LOC_REF = References(location=("location_id",), material=("material_id",))
_STOCK = (
    _erp(
        "inventory_snapshots",
        "inventory_snapshots",
        (
            *_LOC,
            c("material_id", "material_code"),
            c("on_hand", "on_hand_qty", "int"),
            c("counted_at", "count_ts", "utc_time"),
        ),
        "parquet",
        True,
        BusinessDate("counted_at"),
        _LOC_REF,
    ),
    _erp(
        "inventory_movements",
        "inventory_movements",
        (
            c("movement_id", "doc_no"),
            *_LOC,
            c("material_id", "material_code"),
            c("kind", "move_type"),
            c("quantity", "qty", "int"),
            c("waste_reason", "waste_reason"),
            c("reference", "ref_doc"),
            c("occurred_at", "posting_ts", "utc_time"),
        ),
        "parquet",
        True,
        BusinessDate("occurred_at"),
        _LOC_REF,
    ),
    _erp(
        "purchase_orders",
        "purchase_orders",
        (
            c("po_id", "po_no"),
            c("material_id", "material_code"),
            c("from_type", "from_type"),
            c("from_id", "from_code"),
            *_LOC,
            c("packs", "packs", "int"),
            c("currency", "currency"),
            c("pack_cost_minor", "pack_cost_fen", "minor"),
            c("ordered_at", "order_ts", "utc_time"),
            c("expected_on", "eta", "date"),
        ),
        "parquet",
        True,
        BusinessDate("ordered_at"),
        _LOC_REF,
    ),
    _erp(
        "deliveries",
        "deliveries",
        (
            c("delivery_id", "gr_no"),
            c("po_id", "po_no"),
            c("material_id", "material_code"),
            *_LOC,
            c("packs", "packs", "int"),
            c("expires_on", "expiry_date", "date"),
            c("delivered_at", "received_ts", "utc_time"),
        ),
        "parquet",
        True,
        BusinessDate("delivered_at"),
        _LOC_REF,
    ),
)
FILES = (*_DIMENSIONS, *_STOCK)
