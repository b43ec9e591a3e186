"""The schemes the demo chain ships: the free Coffee Club in China and in Singapore, and the paid
annual membership (CNY 199 a year with monthly vouchers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import insert_scheme
from newretail.security.audit import Action, record

# The monthly vouchers' templates ship with loyalty.coupon_templates.ensure_demo_templates.
FREE_DRINK_TEMPLATE = "paid_monthly_free_drink"
TEN_OFF_TEMPLATE = "paid_monthly_10_off"
_CHANNELS = ["app", "mini_program", "pos"]


def _tiers(silver: int, gold: int, black: int) -> list[dict[str, object]]:
    """The ladder by rolling-year spend, in minor units: deeper discounts and faster points higher up."""
    return [
        {"id": "green", "name": "绿卡", "name_en": "Green", "threshold": 0},
        {
            "id": "silver",
            "name": "银卡",
            "name_en": "Silver",
            "threshold": silver,
            "discount_percent": 3,
            "points_multiplier_percent": 120,
        },
        {
            "id": "gold",
            "name": "金卡",
            "name_en": "Gold",
            "threshold": gold,
            "discount_percent": 5,
            "points_multiplier_percent": 150,
        },
        {
            "id": "black",
            "name": "黑金卡",
            "name_en": "Black",
            "threshold": black,
            "discount_percent": 8,
            "points_multiplier_percent": 200,
        },
    ]


# Points expire at the end of the 12th month after the month they were earned in. Beans and
# merchandise (retail) earn at half rate: their margin is thinner than a drink's.
_EARN = {
    "minor_per_point": 100,
    "category_multiplier_percent": {"retail": 50},
    "expiry_months": 12,
}

DEMO_SCHEMES: Sequence[SchemeDraft] = (
    SchemeDraft.model_validate(
        {
            "id": "coffee_club",
            "name": "咖啡会员",
            "name_en": "Coffee Club",
            "kind": "free",
            "currency": "CNY",
            "rules": {
                "channels": _CHANNELS,
                "tier_metric": "spend",
                "tier_window_days": 365,
                # Silver at CNY 500 a year (about two drinks a month), gold 1,500, black 4,000.
                "tiers": _tiers(50_000, 150_000, 400_000),
                "earn": _EARN,
                # Prepaid balances are capped at CNY 5,000, the limit for a registered prepaid card.
                "wallet": {
                    "topup_bonus": [
                        {"min_topup_minor": 10_000, "bonus_minor": 1_000},
                        {"min_topup_minor": 30_000, "bonus_minor": 4_000},
                        {"min_topup_minor": 50_000, "bonus_minor": 8_000},
                    ],
                    "max_balance_minor": 500_000,
                },
            },
        }
    ),
    # Singapore's menu costs about a third of China's in SGD, and so do its thresholds and top-ups.
    SchemeDraft.model_validate(
        {
            "id": "coffee_club_sg",
            "name": "咖啡会员（新加坡）",
            "name_en": "Coffee Club Singapore",
            "kind": "free",
            "currency": "SGD",
            "rules": {
                "channels": _CHANNELS,
                "tier_metric": "spend",
                "tier_window_days": 365,
                "tiers": _tiers(15_000, 45_000, 120_000),
                "earn": _EARN,
                "wallet": {
                    "topup_bonus": [
                        {"min_topup_minor": 3_000, "bonus_minor": 300},
                        {"min_topup_minor": 10_000, "bonus_minor": 1_300},
                        {"min_topup_minor": 15_000, "bonus_minor": 2_400},
                    ],
                    "max_balance_minor": 150_000,
                },
            },
        }
    ),
    # Sold in the app and the mini-program. Its points and tier discounts are the free scheme's; the
    # benefit is the vouchers: a free coffee and two CNY 10 off 30 every month, about CNY 40 a month.
    SchemeDraft.model_validate(
        {
            "id": "paid_annual",
            "name": "咖啡年卡",
            "name_en": "Coffee Pass (annual)",
            "kind": "paid",
            "currency": "CNY",
            "rules": {
                "channels": ["app", "mini_program"],
                "tier_metric": "spend",
                "tiers": [
                    {"id": "member", "name": "年卡会员", "name_en": "Pass holder", "threshold": 0}
                ],
                "earn": {"minor_per_point": 100, "expiry_months": 12},
                "paid": {
                    "price_minor": 19_900,
                    "period_months": 12,
                    "monthly_vouchers": [
                        {"template_id": FREE_DRINK_TEMPLATE, "count": 1},
                        {"template_id": TEN_OFF_TEMPLATE, "count": 2},
                    ],
                },
            },
        }
    ),
)


def ensure_demo_schemes(conn: Connection, *, now: dt.datetime) -> list[str]:
    """Create the demo schemes that are missing (an edited scheme is left as it is); the ids
    created, none on a re-run. Each creation is audited as the ``demo`` actor."""
    created = []
    for draft in DEMO_SCHEMES:
        if insert_scheme(conn, draft, now=now):
            record(
                conn,
                actor="demo",
                action=Action.SCHEME_CREATED,
                at=now,
                target_type="loyalty_scheme",
                target_id=draft.id,
                detail={"kind": draft.kind, "currency": draft.currency},
            )
            created.append(draft.id)
    return created
