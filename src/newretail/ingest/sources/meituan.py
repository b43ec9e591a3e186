"""Meituan delivery: the platform's order export (Chinese headers, yuan) and its customers."""

from __future__ import annotations

from newretail.ingest.sources.common import IdentityExport, OrderExport

ORDERS = OrderExport(
    source="meituan",
    format="csv",
    time="local",
    money="yuan",
    fields={
        "order_id": "订单号",
        "store_id": "门店编码",
        "identity_record_id": "用户ID",
        "status": "订单状态",
        "placed_at": "下单时间",
        "accepted_at": "接单时间",
        "made_at": "出餐时间",
        "completed_at": "送达时间",
        "promised_at": "预计送达时间",
        "currency": "币种",
        "gross_minor": "商品原价",
        "discount_minor": "优惠金额",
        "delivery_fee_minor": "配送费",
        "paid_minor": "实付金额",
    },
    lines=("订单号", "行号", "商品编码", "数量", "单价", "优惠"),
    status={"已完成": "completed", "已取消": "cancelled"},
    constants=(
        ("channel", "meituan"),
        ("identity_source", "meituan"),
        ("fulfilment", "delivery"),
        ("payment_method", "platform"),
    ),
)
CUSTOMERS = IdentityExport(
    source="meituan",
    folder="customers",
    format="csv",
    time="offset",
    fields={
        "source_record_id": "用户ID",
        "platform_user_id": "用户ID",
        "phone": "手机号",
        "name": "收货人",
        "address": "收货地址",
        "created_at": "首次下单时间",
        "updated_at": "更新时间",
    },
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), CUSTOMERS.records())
