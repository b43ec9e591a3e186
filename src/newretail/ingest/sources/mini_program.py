"""The WeChat mini-program: orders, lines, users (openids) and Segment-style events."""

from __future__ import annotations

from newretail.ingest.sources.common import IdentityExport, OrderExport, events

ORDERS = OrderExport(
    source="mini_program",
    format="jsonl",
    time="ms",
    money="fen",
    fields={
        "order_id": "out_trade_no",
        "store_id": "shop_id",
        "identity_record_id": "openid",
        "fulfilment": "take_mode",
        "status": "state",
        "placed_at": "create_ts",
        "accepted_at": "accept_ts",
        "made_at": "made_ts",
        "completed_at": "done_ts",
        "promised_at": "promise_ts",
        "currency": "currency",
        "gross_minor": "total_fee",
        "discount_minor": "discount_fee",
        "delivery_fee_minor": "freight_fee",
        "paid_minor": "cash_fee",
        "coupon_id": "coupon_id",
        "payment_method": "pay_channel",
    },
    lines=("out_trade_no", "seq", "sku_id", "num", "price_fen", "discount_fee"),
    status={"SUCCESS": "completed", "CLOSED": "cancelled"},
    constants=(("channel", "mini_program"), ("identity_source", "mini_program")),
)
USERS = IdentityExport(
    source="mini_program",
    folder="users",
    format="jsonl",
    time="ms",
    fields={
        "source_record_id": "openid",
        "wechat_openid": "openid",
        "wechat_unionid": "unionid",
        "phone": "purePhoneNumber",
        "name": "nickName",
        "gender": "gender",
        "city": "city",
        "consent_wechat": "subscribe_msg",
        "created_at": "create_ts",
        "updated_at": "update_ts",
    },
    gender={"2": "F", "1": "M", "0": "U"},
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), USERS.records(), events("mini_program"))
