"""The CRM: coupons handed out by campaigns and their redemptions on orders."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, SourceFile
from newretail.ingest.sources.common import STORE_REF, c

FILES = (
    SourceFile(
        "crm",
        "coupons",
        "crm/coupons/*.csv",
        "csv",
        "coupons_issued",
        columns=(
            c("coupon_id", "coupon_code"),
            c("campaign_id", "campaign_code"),
            c("identity_source", "member_source"),
            c("identity_record_id", "member_id"),
            c("coupon_type", "coupon_type"),
            c("value", "face_value", "int"),
            c("currency", "currency"),
            c("min_spend_minor", "threshold_fen", "minor"),
            c("issued_at", "issue_time", "utc_time"),
            c("expires_at", "expire_time", "utc_time"),
        ),
        business_date=BusinessDate("issued_at", local=False),
    ),
    SourceFile(
        "crm",
        "redemptions",
        "crm/redemptions/*.csv",
        "csv",
        "coupon_redemptions",
        columns=(
            c("coupon_id", "coupon_code"),
            c("order_source", "order_source"),
            c("order_id", "order_id"),
            c("store_id", "store_id"),
            c("currency", "currency"),
            c("discount_minor", "discount_fen", "minor"),
            c("redeemed_at", "use_time", "utc_time"),
        ),
        business_date=BusinessDate("redeemed_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
)
