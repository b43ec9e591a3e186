"""Stock: inventory snapshots and movements at stores and DCs, purchase orders and deliveries.

Movements balance to snapshots: the on-hand at the end of a day equals the previous day's on-hand
plus that day's signed movements, per location and material.
"""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import CURRENCY, DATE, MONEY, QUANTITY, TIMESTAMP, TableSpec, col

_SOURCE = col("source", pa.string(), "Source system that reported the row.", required=True)
_LOCATION = (
    col("location_type", pa.string(), "store or warehouse.", required=True),
    col("location_id", pa.string(), "Store or DC code.", required=True),
)

INVENTORY_SNAPSHOTS = TableSpec(
    name="inventory_snapshots",
    subject="stock",
    description="On-hand quantity of a material at a location at the end of a local business day.",
    schema=pa.schema(
        [
            _SOURCE,
            *_LOCATION,
            col("material_id", pa.string(), "Material code.", required=True),
            col("on_hand", QUANTITY, "Base units on hand at close.", required=True),
            col("counted_at", TIMESTAMP, "When the count was taken.", required=True),
            col("business_date", DATE, "Local date of the count (the partition).", required=True),
        ]
    ),
    key=("location_type", "location_id", "material_id", "business_date"),
    partition_by=("source", "business_date"),
    enums=(("location_type", codes.LOCATION_TYPES),),
)

INVENTORY_MOVEMENTS = TableSpec(
    name="inventory_movements",
    subject="stock",
    description="A signed change of on-hand stock: receipt, consumption, transfer, waste or adjustment.",
    schema=pa.schema(
        [
            _SOURCE,
            col("movement_id", pa.string(), "Movement id.", required=True),
            *_LOCATION,
            col("material_id", pa.string(), "Material code.", required=True),
            col(
                "kind",
                pa.string(),
                "receipt, consumption, transfer_in, transfer_out, waste, adjustment.",
                required=True,
            ),
            col(
                "quantity",
                QUANTITY,
                "Signed base units (negative leaves the location).",
                required=True,
            ),
            col("waste_reason", pa.string(), "For waste: expiry, damage, quality, prep."),
            col(
                "reference", pa.string(), "Purchase order, delivery or transfer id that caused it."
            ),
            col("occurred_at", TIMESTAMP, "When it happened.", required=True),
            col(
                "business_date", DATE, "Local date at the location (the partition).", required=True
            ),
        ]
    ),
    key=("source", "movement_id"),
    partition_by=("source", "business_date"),
    enums=(
        ("location_type", codes.LOCATION_TYPES),
        ("kind", codes.MOVEMENT_KINDS),
        ("waste_reason", codes.WASTE_REASONS),
    ),
)

PURCHASE_ORDERS = TableSpec(
    name="purchase_orders",
    subject="stock",
    description="Order lines for materials: a DC ordering from a supplier, or a store ordering from its DC.",
    schema=pa.schema(
        [
            _SOURCE,
            col("po_id", pa.string(), "Purchase order id.", required=True),
            col("material_id", pa.string(), "Material ordered.", required=True),
            col("from_type", pa.string(), "supplier or warehouse.", required=True),
            col("from_id", pa.string(), "Supplier or DC code shipping the order.", required=True),
            *_LOCATION,
            col("packs", pa.int32(), "Packs ordered.", required=True),
            col("currency", CURRENCY, "Currency of the cost.", required=True),
            col("pack_cost_minor", MONEY, "Cost of one pack, in minor units.", required=True),
            col("ordered_at", TIMESTAMP, "When the order was placed.", required=True),
            col("expected_on", DATE, "Local date delivery is expected.", required=True),
            col("business_date", DATE, "Local date ordered (the partition).", required=True),
        ]
    ),
    key=("source", "po_id", "material_id"),
    partition_by=("source", "business_date"),
    enums=(("location_type", codes.LOCATION_TYPES), ("from_type", ("supplier", "warehouse"))),
)

DELIVERIES = TableSpec(
    name="deliveries",
    subject="stock",
    description="Goods received against a purchase order line.",
    schema=pa.schema(
        [
            _SOURCE,
            col("delivery_id", pa.string(), "Delivery id.", required=True),
            col("po_id", pa.string(), "Purchase order delivered.", required=True),
            col("material_id", pa.string(), "Material delivered.", required=True),
            *_LOCATION,
            col("packs", pa.int32(), "Packs received.", required=True),
            col("expires_on", DATE, "Use-by date of the received lot.", required=True),
            col("delivered_at", TIMESTAMP, "When received.", required=True),
            col("business_date", DATE, "Local date received (the partition).", required=True),
        ]
    ),
    key=("source", "delivery_id", "material_id"),
    partition_by=("source", "business_date"),
    enums=(("location_type", codes.LOCATION_TYPES),),
)

TABLES = (INVENTORY_SNAPSHOTS, INVENTORY_MOVEMENTS, PURCHASE_ORDERS, DELIVERIES)
