"""Ele.me delivery: the platform's order export (epoch milliseconds, fen) and its customers."""

from __future__ import annotations

from newretail.ingest.sources.common import IdentityExport, OrderExport

ORDERS = OrderExport(
    source="eleme",
    format="csv",
    time="ms",
    money="fen",
    fields={
        "order_id": "eleme_order_id",
        "store_id": "shop_code",
        "identity_record_id": "user_id",
        "status": "order_status",
        "placed_at": "created_ms",
        "accepted_at": "accepted_ms",
        "made_at": "cooked_ms",
        "completed_at": "delivered_ms",
        "promised_at": "deliver_by_ms",
        "currency": "currency",
        "gross_minor": "original_fen",
        "discount_minor": "discount_fen",
        "delivery_fee_minor": "delivery_fen",
        "paid_minor": "total_fen",
    },
    lines=("eleme_order_id", "item_seq", "sku_code", "qty", "price_fen", "discount_fen"),
    status={"SETTLED": "completed", "INVALID": "cancelled"},
    constants=(
        ("channel", "eleme"),
        ("identity_source", "eleme"),
        ("fulfilment", "delivery"),
        ("payment_method", "platform"),
    ),
)
CUSTOMERS = IdentityExport(
    source="eleme",
    folder="customers",
    format="csv",
    time="ms",
    fields={
        "source_record_id": "user_id",
        "platform_user_id": "user_id",
        "phone": "phone",
        "name": "consignee",
        "address": "address",
        "created_at": "first_order_ms",
        "updated_at": "updated_ms",
    },
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), CUSTOMERS.records())
