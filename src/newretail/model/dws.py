"""DWS tables: light aggregates at the grains every application rolls up from.

Every measure is additive (counts and sums, never averages or ratios), so a rollup to week, city or
chain is a plain sum: an average make time is ``make_seconds_sum / made_orders``. Unless a column
says otherwise, order measures count completed orders; ``orders`` counts every order placed.
"""

from __future__ import annotations

import pyarrow as pa

from newretail.model.spec import CURRENCY, DATE, MONEY, QUANTITY, TableSpec, col

COUNT = pa.int64()

# Channel families: the app and mini-program are the brand's own apps; meituan and eleme are
# delivery platforms; tmall is e-commerce; pos is the till.
CHANNEL_FAMILIES: dict[str, tuple[str, ...]] = {
    "app": ("app", "mini_program"),
    "pos": ("pos",),
    "platform": ("meituan", "eleme"),
    "ecommerce": ("tmall",),
}

_STORE = col("store_id", pa.string(), "Store code.", required=True)
_DATE = col(
    "business_date", DATE, "Local business date at the store (the partition).", required=True
)
_CURRENCY = col("currency", CURRENCY, "ISO 4217 currency of every amount on the row.")


def _family_columns() -> list[pa.Field[pa.DataType]]:
    fields = []
    for family, channels in CHANNEL_FAMILIES.items():
        names = ", ".join(channels)
        fields.append(col(f"orders_{family}", COUNT, f"Completed orders from {names}."))
        fields.append(
            col(
                f"paid_{family}_minor",
                MONEY,
                f"Paid on completed orders from {names}, minor units.",
            )
        )
    return fields


STORE_DAY = TableSpec(
    name="store_day",
    subject="dws",
    description="One store's trading day: orders, money, channels, delivery, service and footfall.",
    schema=pa.schema(
        [
            _STORE,
            _DATE,
            _CURRENCY,
            col("orders", COUNT, "Orders placed, completed or cancelled."),
            col("completed_orders", COUNT, "Orders completed."),
            col("cancelled_orders", COUNT, "Orders cancelled."),
            col("gross_minor", MONEY, "Sum of list prices of completed orders, minor units."),
            col("discount_minor", MONEY, "Discounts on completed orders, minor units."),
            col("delivery_fee_minor", MONEY, "Delivery fees on completed orders, minor units."),
            col("paid_minor", MONEY, "Amount paid on completed orders, minor units."),
            col("items", COUNT, "Units sold on completed orders."),
            col("member_orders", COUNT, "Completed orders placed with an identity record."),
            col("anonymous_orders", COUNT, "Completed orders without an identity record."),
            col(
                "distinct_identities",
                COUNT,
                "Distinct identity records with a completed order; distinct within this row only, so a"
                " sum over days or stores counts a returning customer more than once.",
            ),
            *_family_columns(),
            col("delivery_orders", COUNT, "Completed orders with fulfilment delivery."),
            col("on_time_deliveries", COUNT, "Delivery orders completed at or before promised_at."),
            col("late_deliveries", COUNT, "Delivery orders completed after promised_at."),
            col("make_seconds_sum", COUNT, "Seconds from acceptance (or placing) to made, summed."),
            col(
                "made_orders",
                COUNT,
                "Completed orders with a made_at time (divide make_seconds_sum by it).",
            ),
            col("refunds", COUNT, "Refunds requested on this day."),
            col("refund_minor", MONEY, "Amount of those refunds, minor units."),
            col("complaints", COUNT, "Complaints received on this day."),
            col("ratings", COUNT, "Ratings given on this day."),
            col(
                "stars_sum",
                COUNT,
                "Stars of those ratings, summed (divide by ratings for the mean).",
            ),
            col("visitors", COUNT, "People counted entering at the door."),
            col("coupon_redemptions", COUNT, "Coupons redeemed on this day."),
            col("coupon_discount_minor", MONEY, "Discount those coupons gave, minor units."),
        ]
    ),
    key=("store_id", "business_date", "currency"),
    partition_by=("business_date",),
)

STORE_HOUR = TableSpec(
    name="store_hour",
    subject="dws",
    description="One store's local hour: the daypart view of orders, make times and footfall.",
    schema=pa.schema(
        [
            _STORE,
            _DATE,
            col(
                "business_hour", pa.int8(), "Local hour 0-23 (orders: when placed).", required=True
            ),
            _CURRENCY,
            col("orders", COUNT, "Orders placed, completed or cancelled."),
            col("completed_orders", COUNT, "Orders completed."),
            col("paid_minor", MONEY, "Amount paid on completed orders, minor units."),
            col("items", COUNT, "Units sold on completed orders."),
            col("make_seconds_sum", COUNT, "Seconds from acceptance (or placing) to made, summed."),
            col("made_orders", COUNT, "Completed orders with a made_at time."),
            col("delivery_orders", COUNT, "Completed orders with fulfilment delivery."),
            col("late_deliveries", COUNT, "Delivery orders completed after promised_at."),
            col("visitors", COUNT, "People counted entering at the door."),
        ]
    ),
    key=("store_id", "business_date", "business_hour", "currency"),
    partition_by=("business_date",),
)

STORE_PRODUCT_DAY = TableSpec(
    name="store_product_day",
    subject="dws",
    description="Units and money of one product at one store on one day (completed orders).",
    schema=pa.schema(
        [
            _STORE,
            col("product_id", pa.string(), "Product code.", required=True),
            _DATE,
            _CURRENCY,
            col("units", COUNT, "Units sold."),
            col("orders", COUNT, "Completed orders with the product on them."),
            col("gross_minor", MONEY, "Units times list price, minor units."),
            col("discount_minor", MONEY, "Discount allocated to the product's lines, minor units."),
            col("net_minor", MONEY, "gross_minor - discount_minor."),
        ]
    ),
    key=("store_id", "product_id", "business_date", "currency"),
    partition_by=("business_date",),
)

STORE_MATERIAL_DAY = TableSpec(
    name="store_material_day",
    subject="dws",
    description=(
        "Stock of one material at one location on one day: opening, signed movements by kind and"
        " closing, so that closing_on_hand = opening_on_hand + the six movement columns."
    ),
    schema=pa.schema(
        [
            col("location_type", pa.string(), "store or warehouse.", required=True),
            col("location_id", pa.string(), "Store or DC code.", required=True),
            col("material_id", pa.string(), "Material code.", required=True),
            _DATE,
            col(
                "opening_on_hand",
                QUANTITY,
                "On hand at the previous day's close; null if not counted.",
            ),
            col("receipts", QUANTITY, "Received, base units (>= 0)."),
            col("consumption", QUANTITY, "Consumed making products, signed base units (<= 0)."),
            col("transfers_in", QUANTITY, "Transferred in, base units (>= 0)."),
            col("transfers_out", QUANTITY, "Transferred out, signed base units (<= 0)."),
            col("waste", QUANTITY, "Wasted for any reason, signed base units (<= 0)."),
            col("waste_expiry", QUANTITY, "Part of waste thrown away because it expired (<= 0)."),
            col("adjustments", QUANTITY, "Stock-count adjustments, signed base units."),
            col(
                "closing_on_hand",
                QUANTITY,
                "On hand at close: the day's count, else opening plus movements; null if neither is known.",
            ),
            col(
                "count_variance",
                QUANTITY,
                "Counted closing minus (opening + movements); 0 when stock balances, null without both counts.",
            ),
            col(
                "bom_demand",
                QUANTITY,
                "Base units the day's completed sales needed by the bill of materials.",
            ),
            col(
                "stock_out",
                pa.bool_(),
                "Ran out: closing <= 0, or consumption fell short of what sales needed by the bill of materials.",
            ),
        ]
    ),
    key=("location_type", "location_id", "material_id", "business_date"),
    partition_by=("business_date",),
)

PERSON_DAY = TableSpec(
    name="person_day",
    subject="dws",
    description=(
        "One identity record's day: orders, money, coupons and app events. Keyed by identity record;"
        " OneID maps (identity_source, identity_record_id) to a person id by a join."
    ),
    schema=pa.schema(
        [
            col("identity_source", pa.string(), "Source of the identity record.", required=True),
            col(
                "identity_record_id",
                pa.string(),
                "The identity record's id in its source.",
                required=True,
            ),
            col(
                "business_date",
                DATE,
                "Local date at the store (orders) or UTC date (events); the partition.",
                required=True,
            ),
            col(
                "currency",
                CURRENCY,
                "ISO 4217 currency of paid_minor; null on a day without orders.",
            ),
            col("orders", COUNT, "Completed orders."),
            col("paid_minor", MONEY, "Amount paid on completed orders, minor units."),
            col("items", COUNT, "Units bought on completed orders."),
            col("coupons_redeemed", COUNT, "Coupons redeemed on this identity's orders."),
            col(
                "app_events",
                COUNT,
                "App and mini-program events (user_id is the identity record id).",
            ),
        ]
    ),
    key=("identity_source", "identity_record_id", "business_date"),
    partition_by=("business_date",),
)

TABLES = (STORE_DAY, STORE_HOUR, STORE_PRODUCT_DAY, STORE_MATERIAL_DAY, PERSON_DAY)
_BY_NAME = {spec.name: spec for spec in TABLES}


def table(name: str) -> TableSpec:
    """The DWS table called ``name``."""
    return _BY_NAME[name]
