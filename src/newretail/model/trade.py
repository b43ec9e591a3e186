"""Trade: orders and their lines from every channel, refunds, complaints and ratings."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import CURRENCY, DATE, MONEY, TIMESTAMP, TableSpec, col

_SOURCE = col("source", pa.string(), "Source system that reported the row.", required=True)
_BUSINESS_DATE = col(
    "business_date", DATE, "Local date at the store (the partition).", required=True
)

ORDERS = TableSpec(
    name="orders",
    subject="trade",
    description=(
        "Customer orders from every channel. A delivery-platform order also reaches the store's POS;"
        " that copy carries the platform's order id in platform_order_ref and DWD keeps one of the two."
    ),
    schema=pa.schema(
        [
            _SOURCE,
            col("order_id", pa.string(), "Order id in the source system.", required=True),
            col(
                "channel",
                pa.string(),
                "Where the customer ordered: app, mini_program, pos, meituan, eleme, tmall.",
                required=True,
            ),
            col("store_id", pa.string(), "Store that made the order.", required=True),
            col(
                "identity_source",
                pa.string(),
                "Source of the identity record used; null for anonymous.",
            ),
            col(
                "identity_record_id",
                pa.string(),
                "Identity record used to order; null for anonymous.",
            ),
            col(
                "fulfilment",
                pa.string(),
                "dine_in, takeaway, pickup, delivery or shipping.",
                required=True,
            ),
            col("status", pa.string(), "completed or cancelled.", required=True),
            col("placed_at", TIMESTAMP, "When the customer placed the order.", required=True),
            col("accepted_at", TIMESTAMP, "When the store accepted it."),
            col("made_at", TIMESTAMP, "When the kitchen finished making it."),
            col("completed_at", TIMESTAMP, "When it was picked up or delivered."),
            col(
                "promised_at", TIMESTAMP, "Delivery time promised to the customer (delivery only)."
            ),
            col("currency", CURRENCY, "ISO 4217 currency of all amounts.", required=True),
            col("gross_minor", MONEY, "Sum of line list prices, in minor units.", required=True),
            col(
                "discount_minor",
                MONEY,
                "All discounts (coupon, member, promotion), in minor units.",
                required=True,
            ),
            col(
                "delivery_fee_minor", MONEY, "Delivery fee charged to the customer, in minor units."
            ),
            col(
                "paid_minor",
                MONEY,
                "Amount paid: gross - discount + delivery fee, in minor units.",
                required=True,
            ),
            col("coupon_id", pa.string(), "Coupon redeemed on the order, if any."),
            col(
                "payment_method",
                pa.string(),
                "wechat_pay, alipay, card, cash, stored_value, platform.",
                required=True,
            ),
            col(
                "platform_order_ref",
                pa.string(),
                "On a POS copy of a platform order: the platform's order id.",
            ),
            col(
                "business_hour",
                pa.int8(),
                "Local hour (0-23) at the store when placed.",
                required=True,
            ),
            _BUSINESS_DATE,
        ]
    ),
    key=("source", "order_id"),
    partition_by=("source", "business_date"),
    enums=(
        ("source", codes.SOURCES),
        ("channel", codes.CHANNELS),
        ("fulfilment", codes.FULFILMENTS),
        ("status", codes.ORDER_STATUSES),
        ("payment_method", codes.PAYMENT_METHODS),
        ("currency", codes.CURRENCIES),
    ),
)

ORDER_LINES = TableSpec(
    name="order_lines",
    subject="trade",
    description="The products on an order; line amounts sum to the order's gross and discount.",
    schema=pa.schema(
        [
            _SOURCE,
            col("order_id", pa.string(), "Order id in the source system.", required=True),
            col("line_no", pa.int32(), "Line number within the order, from 1.", required=True),
            col("product_id", pa.string(), "Product code.", required=True),
            col("quantity", pa.int32(), "Units ordered.", required=True),
            col("currency", CURRENCY, "ISO 4217 currency.", required=True),
            col(
                "unit_price_minor", MONEY, "List price of one unit, in minor units.", required=True
            ),
            col(
                "discount_minor",
                MONEY,
                "Discount allocated to this line, in minor units.",
                required=True,
            ),
            col("store_id", pa.string(), "Store that made the order.", required=True),
            _BUSINESS_DATE,
        ]
    ),
    key=("source", "order_id", "line_no"),
    partition_by=("source", "business_date"),
    enums=(("source", codes.SOURCES), ("currency", codes.CURRENCIES)),
)

REFUNDS = TableSpec(
    name="refunds",
    subject="trade",
    description="Money returned to a customer against an order (after-sales).",
    schema=pa.schema(
        [
            _SOURCE,
            col("refund_id", pa.string(), "Refund id.", required=True),
            col("order_source", pa.string(), "Source of the refunded order.", required=True),
            col("order_id", pa.string(), "Refunded order id.", required=True),
            col("store_id", pa.string(), "Store of the order.", required=True),
            col(
                "reason",
                pa.string(),
                "late, wrong_item, quality, cancelled_by_store, other.",
                required=True,
            ),
            col("currency", CURRENCY, "ISO 4217 currency.", required=True),
            col("amount_minor", MONEY, "Amount refunded, in minor units.", required=True),
            col("requested_at", TIMESTAMP, "When the refund was requested.", required=True),
            _BUSINESS_DATE,
        ]
    ),
    key=("source", "refund_id"),
    partition_by=("source", "business_date"),
    enums=(("reason", codes.REFUND_REASONS), ("currency", codes.CURRENCIES)),
)

COMPLAINTS = TableSpec(
    name="complaints",
    subject="trade",
    description="Complaints received by customer service.",
    schema=pa.schema(
        [
            _SOURCE,
            col("complaint_id", pa.string(), "Complaint id.", required=True),
            col("order_source", pa.string(), "Source of the order complained about, if any."),
            col("order_id", pa.string(), "Order complained about, if any."),
            col("identity_source", pa.string(), "Source of the complainant's identity record."),
            col("identity_record_id", pa.string(), "Complainant's identity record."),
            col("store_id", pa.string(), "Store concerned.", required=True),
            col(
                "category",
                pa.string(),
                "late, wrong_item, quality, service, hygiene, other.",
                required=True,
            ),
            col("created_at", TIMESTAMP, "When the complaint was received.", required=True),
            col("resolved_at", TIMESTAMP, "When it was closed; null while open."),
            _BUSINESS_DATE,
        ]
    ),
    key=("source", "complaint_id"),
    partition_by=("source", "business_date"),
    enums=(("category", codes.COMPLAINT_CATEGORIES),),
)

RATINGS = TableSpec(
    name="ratings",
    subject="trade",
    description="Stars a customer gave an order (1-5), in the app or on a delivery platform.",
    schema=pa.schema(
        [
            _SOURCE,
            col("rating_id", pa.string(), "Rating id.", required=True),
            col("order_source", pa.string(), "Source of the rated order.", required=True),
            col("order_id", pa.string(), "Rated order.", required=True),
            col("store_id", pa.string(), "Store of the order.", required=True),
            col("stars", pa.int8(), "1 (worst) to 5 (best).", required=True),
            col("rated_at", TIMESTAMP, "When the rating was given.", required=True),
            _BUSINESS_DATE,
        ]
    ),
    key=("source", "rating_id"),
    partition_by=("source", "business_date"),
)

TABLES = (ORDERS, ORDER_LINES, REFUNDS, COMPLAINTS, RATINGS)
