"""Goods: products on the menu, their prices, the materials they are made of and the bill of materials."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import CURRENCY, DATE, MONEY, QUANTITY, TableSpec, col

PRODUCTS = TableSpec(
    name="products",
    subject="goods",
    description="Sellable products (drinks, food, retail goods) with their life on the menu.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col(
                "product_id",
                pa.string(),
                "Chain-wide product code (SKU), e.g. P0001.",
                required=True,
            ),
            col("name", pa.string(), "Product name in Chinese.", required=True),
            col("name_en", pa.string(), "Product name in English."),
            col(
                "category",
                pa.string(),
                "Menu category, e.g. coffee, tea, food, retail.",
                required=True,
            ),
            col("subcategory", pa.string(), "Finer category, e.g. latte, americano, cold_brew."),
            col("launched_on", DATE, "First day on sale.", required=True),
            col("retired_on", DATE, "Last day on sale; null while on the menu."),
            col("is_new", pa.bool_(), "Launched inside the data's time range (a new product)."),
        ]
    ),
    key=("product_id",),
    partition_by=("source",),
)

PRODUCT_PRICES = TableSpec(
    name="product_prices",
    subject="goods",
    description="List price and standard cost of a product in one currency.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("product_id", pa.string(), "Product code.", required=True),
            col("currency", CURRENCY, "ISO 4217 currency of the price and cost.", required=True),
            col("price_minor", MONEY, "List price in minor units (fen, cents).", required=True),
            col("cost_minor", MONEY, "Standard cost of goods in minor units.", required=True),
            col("valid_from", DATE, "First day the price applies.", required=True),
        ]
    ),
    key=("product_id", "currency", "valid_from"),
    partition_by=("source",),
    enums=(("currency", codes.CURRENCIES),),
)

MATERIALS = TableSpec(
    name="materials",
    subject="goods",
    description="Raw materials and packaging that stores hold and consume (beans, milk, cups).",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("material_id", pa.string(), "Material code, e.g. M001.", required=True),
            col("name", pa.string(), "Material name.", required=True),
            col(
                "unit",
                pa.string(),
                "Base unit quantities are counted in: g, ml or piece.",
                required=True,
            ),
            col(
                "pack_size", QUANTITY, "Base units in one pack (the ordering unit).", required=True
            ),
            col("shelf_life_days", pa.int32(), "Days a received pack stays usable.", required=True),
            col(
                "storage",
                pa.string(),
                "Storage condition: ambient, chilled, frozen.",
                required=True,
            ),
            col("supplier_id", pa.string(), "Main supplier.", required=True),
            col("is_core", pa.bool_(), "Core material whose in-stock rate is a headline KPI."),
            col("currency", CURRENCY, "ISO 4217 currency of pack_cost_minor."),
            col("pack_cost_minor", MONEY, "Purchase cost of one pack, in minor units."),
        ]
    ),
    key=("material_id",),
    partition_by=("source",),
    enums=(("unit", codes.UNITS), ("storage", codes.STORAGE)),
)

BILL_OF_MATERIALS = TableSpec(
    name="bill_of_materials",
    subject="goods",
    description="Base units of each material that one unit of a product consumes.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that reported the row.", required=True),
            col("product_id", pa.string(), "Product code.", required=True),
            col("material_id", pa.string(), "Material code.", required=True),
            col(
                "quantity", QUANTITY, "Base units of the material per product unit.", required=True
            ),
        ]
    ),
    key=("product_id", "material_id"),
    partition_by=("source",),
)

TABLES = (PRODUCTS, PRODUCT_PRICES, MATERIALS, BILL_OF_MATERIALS)
