"""Places: stores, warehouses (DCs) and suppliers."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import DATE, TableSpec, col

STORES = TableSpec(
    name="stores",
    subject="places",
    description="Every store the chain has opened, with where it is and how it trades.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("store_id", pa.string(), "Chain-wide store code, e.g. S0001.", required=True),
            col("name", pa.string(), "Store name as shown to customers.", required=True),
            col("city", pa.string(), "City in English, e.g. Shanghai.", required=True),
            col("country", pa.string(), "ISO 3166 country code.", required=True),
            col(
                "timezone",
                pa.string(),
                "IANA time zone; business dates are local dates here.",
                required=True,
            ),
            col("currency", pa.string(), "ISO 4217 currency the store trades in.", required=True),
            col(
                "format",
                pa.string(),
                "Store format: flagship, standard, pickup, delivery_kitchen.",
                required=True,
            ),
            col(
                "floor_area_m2",
                pa.float64(),
                "Selling floor area in square metres (for sales per m2).",
            ),
            col("seats", pa.int32(), "Seats for dine-in; 0 for pickup and delivery kitchens."),
            col("opened_on", DATE, "Local date of opening.", required=True),
            col("closed_on", DATE, "Local date of closing; null while open."),
            col("latitude", pa.float64(), "WGS84 latitude.", required=True),
            col("longitude", pa.float64(), "WGS84 longitude.", required=True),
            col("warehouse_id", pa.string(), "The DC that replenishes this store.", required=True),
        ]
    ),
    key=("store_id",),
    partition_by=("source",),
    enums=(
        ("format", codes.STORE_FORMATS),
        ("country", codes.COUNTRIES),
        ("currency", codes.CURRENCIES),
    ),
)

WAREHOUSES = TableSpec(
    name="warehouses",
    subject="places",
    description="Distribution centres (DCs) that hold materials and replenish stores.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("warehouse_id", pa.string(), "DC code, e.g. W01.", required=True),
            col("name", pa.string(), "DC name.", required=True),
            col("city", pa.string(), "City in English.", required=True),
            col("country", pa.string(), "ISO 3166 country code.", required=True),
            col("timezone", pa.string(), "IANA time zone.", required=True),
            col("latitude", pa.float64(), "WGS84 latitude.", required=True),
            col("longitude", pa.float64(), "WGS84 longitude.", required=True),
            col(
                "lead_time_days",
                pa.int32(),
                "Days from a store's order to delivery at the store.",
                required=True,
            ),
            col("capacity_pallets", pa.int32(), "Storage capacity in pallet positions."),
        ]
    ),
    key=("warehouse_id",),
    partition_by=("source",),
    enums=(("country", codes.COUNTRIES),),
)

SUPPLIERS = TableSpec(
    name="suppliers",
    subject="places",
    description="Suppliers of materials to the DCs.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("supplier_id", pa.string(), "Supplier code, e.g. V001.", required=True),
            col("name", pa.string(), "Supplier name.", required=True),
            col("country", pa.string(), "ISO 3166 country code.", required=True),
            col(
                "lead_time_days",
                pa.int32(),
                "Days from a purchase order to delivery at a DC.",
                required=True,
            ),
            col("min_order_packs", pa.int32(), "Minimum order quantity in packs."),
        ]
    ),
    key=("supplier_id",),
    partition_by=("source",),
    enums=(("country", codes.COUNTRIES),),
)

TABLES = (STORES, WAREHOUSES, SUPPLIERS)
