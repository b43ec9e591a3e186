"""The in-store tills: orders (with copies of platform orders), lines, member cards and card balances."""

from __future__ import annotations

from newretail.ingest.mapping import SourceFile
from newretail.ingest.sources.common import UPDATED, IdentityExport, OrderExport, c, k

CHANNEL = {"POS": "pos", "MT": "meituan", "ELM": "eleme"}
ORDER_TYPE = {"堂食": "dine_in", "外带": "takeaway", "外卖": "delivery"}
PAY = {
    "微信": "wechat_pay",
    "支付宝": "alipay",
    "银行卡": "card",
    "现金": "cash",
    "储值": "stored_value",
    "平台": "platform",
}
CARD_LEVEL = {"普卡": "bronze", "银卡": "silver", "金卡": "gold"}

ORDERS = OrderExport(
    source="pos",
    format="csv",
    time="local",
    money="yuan",
    encoding="gbk",
    fields={
        "order_id": "order_no",
        "store_id": "store_code",
        "identity_record_id": "card_no",
        "channel": "channel_code",
        "fulfilment": "order_type",
        "status": "status",
        "placed_at": "order_time",
        "accepted_at": "accept_time",
        "made_at": "make_time",
        "completed_at": "finish_time",
        "promised_at": "promise_time",
        "currency": "currency",
        "gross_minor": "amt",
        "discount_minor": "disc_amt",
        "delivery_fee_minor": "deliv_fee",
        "paid_minor": "pay_amt",
        "coupon_id": "coupon_code",
        "payment_method": "pay_type",
        "platform_order_ref": "platform_order_no",
    },
    lines=("order_no", "line_no", "sku", "qty", "price", "disc_amt"),
    status={"已完成": "completed", "已取消": "cancelled"},
    constants=(("identity_source", "pos"),),
    codes=(("channel", CHANNEL), ("fulfilment", ORDER_TYPE), ("payment_method", PAY)),
)
MEMBERS = IdentityExport(
    source="pos",
    folder="members",
    format="csv",
    time="offset",
    encoding="gbk",
    fields={
        "source_record_id": "card_no",
        "pos_card_no": "card_no",
        "phone": "mobile",
        "name": "name",
        "gender": "sex",
        "birthday": "birth",
        "city": "city",
        "consent_sms": "sms_flag",
        "created_at": "open_time",
        "updated_at": "modify_time",
    },
    gender={"女": "F", "男": "M", "未知": "U"},
)
# The card is the membership: its number identifies both the record and the programme balance.
MEMBER_CARDS = SourceFile(
    "pos",
    "member_cards",
    "pos/member_cards/*.csv",
    "csv",
    "memberships",
    encoding="gbk",
    columns=(
        c("membership_id", "card_no"),
        c("source_record_id", "card_no"),
        k("program", "pos_card"),
        c("level", "card_level", codes=CARD_LEVEL),
        c("points", "jifen", "int"),
        c("joined_at", "open_time", "utc_time"),
        c("updated_at", "modify_time", "utc_time"),
    ),
    business_date=UPDATED,
)
FILES = (ORDERS.orders(), ORDERS.order_lines(), MEMBERS.records(), MEMBER_CARDS)
