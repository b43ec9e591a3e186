"""The WeChat official account: followers and the WeChat member card."""

from __future__ import annotations

from newretail.ingest.mapping import SourceFile
from newretail.ingest.sources.common import UPDATED, IdentityExport, c, k

CARD_LEVEL = {"普通会员": "standard", "黄金会员": "gold"}

FOLLOWERS = IdentityExport(
    source="wechat",
    folder="followers",
    format="jsonl",
    time="ms",
    fields={
        "source_record_id": "openid",
        "wechat_openid": "openid",
        "wechat_unionid": "unionid",
        "name": "nickname",
        "gender": "sex",
        "city": "city",
        "consent_wechat": "subscribe",
        "created_at": "subscribe_time",
        "updated_at": "update_time",
    },
    gender={"2": "F", "1": "M", "0": "U"},
)
MEMBER_CARDS = SourceFile(
    "wechat",
    "member_cards",
    "wechat/member_cards/*.jsonl",
    "jsonl",
    "memberships",
    columns=(
        c("membership_id", "card_code"),
        c("source_record_id", "openid"),
        k("program", "wechat_card"),
        c("level", "level_name", codes=CARD_LEVEL),
        c("points", "bonus", "int"),
        c("joined_at", "activate_time", "utc_time"),
        c("updated_at", "update_time", "utc_time"),
    ),
    business_date=UPDATED,
)
FILES = (FOLLOWERS.records(), MEMBER_CARDS)
