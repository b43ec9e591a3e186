"""A small shop for the order tests: a catalogue of three products in two stores, a club scheme with
a tier discount and a wallet bonus, three coupon templates, and persons known to OneID by an app
account. Rows the checkout only reads are inserted directly; the rest goes through the domain."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, update

from newretail.loyalty import wallet
from newretail.loyalty.coupon_issue import issue
from newretail.loyalty.coupon_templates import TemplateDraft, create_template
from newretail.loyalty.memberships import enrol
from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import insert_scheme
from newretail.oltp.tables import (
    catalogue_prices,
    catalogue_products,
    catalogue_stores,
    identity_links,
    identity_persons,
    memberships,
)
from newretail.security import Principal
from newretail.trade.checkout import CheckoutRequest, LineRequest, MemberRef

NOW = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
SCHEME = "shop_club"
LATTE, CROISSANT, BEANS = "P-LATTE", "P-CROISSANT", "P-BEANS"
PRICES = {LATTE: 3200, CROISSANT: 1800, BEANS: 8800}
L_UPCHARGE = 300
GOLD_DISCOUNT = 10
TOPUP_BONUS = (10_000, 1_000)  # top up 100 CNY, get 10 CNY
FIVE_OFF, FREE_COFFEE, TWENTY_PCT = "t-5-off", "t-free-coffee", "t-20-pct"
_orders = itertools.count()


@dataclass(frozen=True)
class Shopper:
    person_id: str
    app_account: str
    membership_id: int


def seed_shop(engine: Engine) -> None:
    with engine.begin() as conn:
        seed_catalogue(conn)
        insert_scheme(conn, _scheme(), now=NOW)
        for draft in _templates():
            create_template(conn, draft, actor=Principal.cli(), now=NOW)


def seed_catalogue(conn: Connection) -> None:
    """Two stores in Shanghai (one closed) and three products priced in CNY."""
    conn.execute(
        insert(catalogue_stores),
        [
            {
                "store_id": "S1",
                "name": "人民广场店",
                "city": "Shanghai",
                "currency": "CNY",
                "timezone": "Asia/Shanghai",
                "open": True,
            },
            {
                "store_id": "S9",
                "name": "已关闭",
                "city": "Shanghai",
                "currency": "CNY",
                "timezone": "Asia/Shanghai",
                "open": False,
            },
        ],
    )
    sizes = {"CNY": {"M": 0, "L": L_UPCHARGE}}
    conn.execute(
        insert(catalogue_products),
        [
            {
                "product_id": LATTE,
                "name": "拿铁",
                "name_en": "Latte",
                "category": "coffee",
                "subcategory": "latte",
                "sizes": sizes,
                "on_sale": True,
            },
            {
                "product_id": CROISSANT,
                "name": "可颂",
                "name_en": "Croissant",
                "category": "food",
                "subcategory": None,
                "sizes": {},
                "on_sale": True,
            },
            {
                "product_id": BEANS,
                "name": "咖啡豆",
                "name_en": "Beans",
                "category": "retail",
                "subcategory": None,
                "sizes": {},
                "on_sale": True,
            },
        ],
    )
    conn.execute(
        insert(catalogue_prices),
        [{"product_id": p, "currency": "CNY", "price_minor": v} for p, v in PRICES.items()],
    )


def _scheme() -> SchemeDraft:
    return SchemeDraft.model_validate(
        {
            "id": SCHEME,
            "name": "店铺会员",
            "name_en": "Shop club",
            "kind": "free",
            "currency": "CNY",
            "rules": {
                "channels": ["app", "mini_program", "pos"],
                "tier_metric": "spend",
                "tiers": [
                    {"id": "member", "name": "会员", "name_en": "Member", "threshold": 0},
                    {
                        "id": "gold",
                        "name": "金卡",
                        "name_en": "Gold",
                        "threshold": 100_000,
                        "discount_percent": GOLD_DISCOUNT,
                        "points_multiplier_percent": 200,
                    },
                ],
                "earn": {
                    "minor_per_point": 100,
                    "category_multiplier_percent": {"retail": 50},
                    "expiry_months": 12,
                },
                "wallet": {
                    "topup_bonus": [
                        {"min_topup_minor": TOPUP_BONUS[0], "bonus_minor": TOPUP_BONUS[1]}
                    ],
                    "max_balance_minor": 500_000,
                },
            },
        }
    )


def _templates() -> list[TemplateDraft]:
    return [
        TemplateDraft.model_validate(fields)
        for fields in (
            {
                "id": FIVE_OFF,
                "name": "满20减5",
                "name_en": "5 off 20",
                "kind": "amount_off",
                "currency": "CNY",
                "amount_off_minor": 500,
                "threshold_minor": 2000,
                "valid_days": 30,
            },
            {
                "id": FREE_COFFEE,
                "name": "免费咖啡",
                "name_en": "Free coffee",
                "kind": "free_item",
                "currency": "CNY",
                "target_category": "coffee",
                "valid_days": 30,
            },
            {
                "id": TWENTY_PCT,
                "name": "八折",
                "name_en": "20% off",
                "kind": "percent_off",
                "currency": "CNY",
                "percent_off": 20,
                "cap_minor": 1000,
                "valid_days": 30,
                "stacks_with_tier": False,
            },
        )
    ]


def new_shopper(engine: Engine, *, tier: str = "member") -> Shopper:
    """A person OneID knows by an app account, enrolled in the club at ``tier``."""
    person_id = f"per_{uuid.uuid4().hex[:16]}"
    account = f"u-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(
            insert(identity_persons).values(
                person_id=person_id,
                status="active",
                origin="batch",
                retired_into=None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            insert(identity_links).values(
                source="app",
                source_record_id=account,
                person_id=person_id,
                reason_kind="single",
                reason="test",
                origin="api",
                linked_at=NOW,
            )
        )
        member = enrol(conn, SCHEME, person_id, channel="app", actor="test", now=NOW)
        if tier != "member":
            conn.execute(update(memberships).where(memberships.c.id == member.id).values(tier=tier))
    return Shopper(person_id=person_id, app_account=account, membership_id=member.id)


def give_coupon(engine: Engine, shopper: Shopper, template_id: str) -> str:
    with engine.begin() as conn:
        result = issue(
            conn,
            template_id,
            [shopper.person_id],
            issue_key=uuid.uuid4().hex,
            actor="test",
            now=NOW,
        )
    (code,) = result.coupon_ids
    return code


def top_up(engine: Engine, shopper: Shopper, amount_minor: int, *, bonus_minor: int = 0) -> None:
    with engine.begin() as conn:
        wallet.top_up(
            conn,
            shopper.membership_id,
            amount_minor,
            bonus_minor=bonus_minor,
            currency="CNY",
            natural_key=uuid.uuid4().hex,
            payment_method="wechat_pay",
            actor="test",
            now=NOW,
        )


def basket(
    shopper: Shopper | None,
    *lines: tuple[str, int] | tuple[str, int, str],
    coupons: tuple[str, ...] = (),
    payment: str = "wechat_pay",
    channel: str = "app",
    store: str = "S1",
) -> CheckoutRequest:
    return CheckoutRequest(
        channel=channel,
        store_id=store,
        client_order_id=f"c-{next(_orders)}-{uuid.uuid4().hex[:8]}",
        fulfilment="pickup",
        payment_method=payment,
        lines=[LineRequest(line[0], line[1], line[2] if len(line) > 2 else None) for line in lines],
        member=MemberRef(source="app", source_record_id=shopper.app_account) if shopper else None,
        coupon_ids=coupons,
    )


def counts(conn: Connection) -> dict[str, int]:
    """How many rows each table the checkout writes holds: to prove a refusal wrote nothing."""
    from sqlalchemy import func, select

    from newretail.oltp import tables

    names = (
        "orders",
        "order_lines",
        "order_discounts",
        "order_refunds",
        "loyalty_entries",
        "coupon_events",
        "trade_outbox",
        "points_lots",
    )
    return {
        name: conn.execute(select(func.count()).select_from(getattr(tables, name))).scalar_one()
        for name in names
    }
