"""The brand's app: orders, lines, users, Segment-style events and the app's member programmes."""

from __future__ import annotations

from newretail.ingest.mapping import SourceFile
from newretail.ingest.sources.common import UPDATED, IdentityExport, OrderExport, c, events

# The app sells two programmes: the free member scheme and the paid annual "PLUS" membership.
PLAN = {"MEMBER": "app_member", "PLUS": "paid_annual"}
GRADE = {"BRONZE": "bronze", "SILVER": "silver", "GOLD": "gold", "PLUS": "plus"}

ORDERS = OrderExport(
    source="app",
    format="jsonl",
    time="iso",
    money="fen",
    fields={
        "order_id": "order_id",
        "store_id": "store_id",
        "identity_record_id": "uid",
        "fulfilment": "fulfilment",
        "status": "status",
        "placed_at": "placed_at",
        "accepted_at": "accepted_at",
        "made_at": "made_at",
        "completed_at": "completed_at",
        "promised_at": "promised_at",
        "currency": "currency",
        "gross_minor": "gross_fen",
        "discount_minor": "discount_fen",
        "delivery_fee_minor": "delivery_fee_fen",
        "paid_minor": "paid_fen",
        "coupon_id": "coupon_code",
        "payment_method": "pay_method",
    },
    lines=("order_id", "line_no", "product_id", "quantity", "unit_price_fen", "discount_fen"),
    constants=(("channel", "app"), ("identity_source", "app")),
)
USERS = IdentityExport(
    source="app",
    folder="users",
    format="jsonl",
    time="iso",
    fields={
        "source_record_id": "uid",
        "app_uid": "uid",
        "phone": "mobile",
        "email": "email",
        "name": "real_name",
        "gender": "gender",
        "birthday": "birthday",
        "city": "city",
        "consent_sms": "sms_opt_in",
        "consent_email": "email_opt_in",
        "consent_push": "push_opt_in",
        "created_at": "registered_at",
        "updated_at": "updated_at",
    },
    gender={"F": "F", "M": "M", "U": "U"},
)
MEMBERSHIPS = SourceFile(
    "app",
    "memberships",
    "app/memberships/*.jsonl",
    "jsonl",
    "memberships",
    columns=(
        c("membership_id", "member_no"),
        c("source_record_id", "uid"),
        c("program", "plan", codes=PLAN),
        c("level", "grade", codes=GRADE),
        c("points", "points", "int"),
        c("joined_at", "joined_at", "utc_time"),
        c("expires_on", "expire_date", "date"),
        c("updated_at", "updated_at", "utc_time"),
    ),
    business_date=UPDATED,
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), USERS.records(), events("app"), MEMBERSHIPS)
