"""Engagement: app and mini-program events, coupons issued and redeemed."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import DATE, MONEY, TIMESTAMP, TableSpec, col

APP_EVENTS = TableSpec(
    name="app_events",
    subject="engagement",
    description="Segment-style events from the app and the mini-program (page views, taps, carts).",
    schema=pa.schema(
        [
            col("source", pa.string(), "app or mini_program.", required=True),
            col(
                "message_id",
                pa.string(),
                "Unique event id; duplicates are dropped in DWD.",
                required=True,
            ),
            col("type", pa.string(), "track, page, screen or identify.", required=True),
            col(
                "event",
                pa.string(),
                "Event name for track (e.g. Product Viewed); page name otherwise.",
                required=True,
            ),
            col("anonymous_id", pa.string(), "Device-level id before login."),
            col(
                "user_id", pa.string(), "The app_uid (app) or openid (mini-program) once logged in."
            ),
            col("product_id", pa.string(), "Product concerned, if any."),
            col("store_id", pa.string(), "Store concerned, if any."),
            col("occurred_at", TIMESTAMP, "When it happened on the device.", required=True),
            col("properties", pa.string(), "Other properties as a JSON object."),
            col("business_date", DATE, "UTC date of occurred_at (the partition).", required=True),
        ]
    ),
    key=("source", "message_id"),
    partition_by=("source", "business_date"),
    enums=(("type", codes.EVENT_TYPES),),
)

COUPONS_ISSUED = TableSpec(
    name="coupons_issued",
    subject="engagement",
    description="Coupons handed to a person by a campaign.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (crm).", required=True),
            col("coupon_id", pa.string(), "Coupon code, unique.", required=True),
            col("campaign_id", pa.string(), "Campaign that issued it.", required=True),
            col(
                "identity_source",
                pa.string(),
                "Source of the receiving identity record.",
                required=True,
            ),
            col("identity_record_id", pa.string(), "Receiving identity record.", required=True),
            col(
                "coupon_type", pa.string(), "amount_off, percent_off or free_drink.", required=True
            ),
            col(
                "value",
                pa.int64(),
                "Minor units for amount_off, percent for percent_off, 0 otherwise.",
                required=True,
            ),
            col("currency", pa.string(), "Currency of an amount_off value."),
            col("min_spend_minor", MONEY, "Minimum order gross to redeem, in minor units."),
            col("issued_at", TIMESTAMP, "When issued.", required=True),
            col("expires_at", TIMESTAMP, "When it stops being redeemable.", required=True),
            col("business_date", DATE, "UTC date of issued_at (the partition).", required=True),
        ]
    ),
    key=("source", "coupon_id"),
    partition_by=("source", "business_date"),
    enums=(("coupon_type", codes.COUPON_TYPES),),
)

COUPON_REDEMPTIONS = TableSpec(
    name="coupon_redemptions",
    subject="engagement",
    description="A coupon used on an order.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (crm).", required=True),
            col("coupon_id", pa.string(), "Coupon code.", required=True),
            col("order_source", pa.string(), "Source of the order it was used on.", required=True),
            col("order_id", pa.string(), "Order it was used on.", required=True),
            col("store_id", pa.string(), "Store of the order.", required=True),
            col("currency", pa.string(), "Currency of the discount.", required=True),
            col(
                "discount_minor", MONEY, "Discount the coupon gave, in minor units.", required=True
            ),
            col("redeemed_at", TIMESTAMP, "When redeemed.", required=True),
            col("business_date", DATE, "Local date at the store (the partition).", required=True),
        ]
    ),
    key=("source", "coupon_id"),
    partition_by=("source", "business_date"),
)

TABLES = (APP_EVENTS, COUPONS_ISSUED, COUPON_REDEMPTIONS)
