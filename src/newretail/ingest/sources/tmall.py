"""Tmall e-commerce: shipped retail orders (beans, drip bags, merchandise) and buyers."""

from __future__ import annotations

from newretail.ingest.sources.common import IdentityExport, OrderExport

ORDERS = OrderExport(
    source="tmall",
    format="csv",
    time="local",
    money="yuan",
    fields={
        "order_id": "tid",
        "store_id": "store_code",
        "identity_record_id": "buyer_id",
        "status": "trade_status",
        "placed_at": "created",
        "accepted_at": "consign_time",
        "completed_at": "end_time",
        "currency": "currency",
        "gross_minor": "total_fee",
        "discount_minor": "discount_fee",
        "delivery_fee_minor": "post_fee",
        "paid_minor": "payment",
    },
    lines=("tid", "oid_seq", "outer_sku_id", "num", "price", "discount_fee"),
    status={"TRADE_FINISHED": "completed", "TRADE_CLOSED": "cancelled"},
    constants=(
        ("channel", "tmall"),
        ("identity_source", "tmall"),
        ("fulfilment", "shipping"),
        ("payment_method", "platform"),
    ),
)
CUSTOMERS = IdentityExport(
    source="tmall",
    folder="customers",
    format="csv",
    time="offset",
    fields={
        "source_record_id": "buyer_id",
        "platform_user_id": "buyer_id",
        "phone": "receiver_mobile",
        "email": "buyer_email",
        "name": "receiver_name",
        "address": "receiver_address",
        "created_at": "first_trade_time",
        "updated_at": "modified",
    },
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), CUSTOMERS.records())
