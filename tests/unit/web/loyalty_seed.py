"""A small loyalty world for the console's loyalty tests, made through the domain's own functions: the
demo schemes and coupon templates, a catalogue synced from three DWD tables written straight into
the lake, one member (an ERP record, so the person page exists) enrolled in the Coffee Club with a
topped-up wallet and coupons, and two orders in two channels and stores (one paid from the wallet
with a coupon)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import Engine

from newretail.config import Settings
from newretail.identity.manual import person_of
from newretail.identity.realtime import import_members
from newretail.lake import Lake
from newretail.loyalty import wallet
from newretail.loyalty.coupon_issue import issue
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.coupons import expire_due
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.loyalty.memberships import enrol
from newretail.model import dwd
from newretail.security.pii import PiiProtector
from newretail.trade.catalogue import sync_catalogue
from newretail.trade.checkout import CheckoutRequest, LineRequest, MemberRef
from newretail.trade.orders import place

LAUNCHED = dt.date(2024, 1, 1)
PRODUCTS = (
    # product_id, name, name_en, category, CNY price
    ("P001", "拿铁", "Latte", "coffee", 2800),
    ("P002", "可颂", "Croissant", "food", 1500),
)
STORES = (
    ("SH01", "上海一店", "Shanghai", "CN", "Asia/Shanghai", "CNY"),
    ("SH02", "上海二店", "Shanghai", "CN", "Asia/Shanghai", "CNY"),
)


@dataclass(frozen=True, slots=True)
class World:
    person_id: str
    membership_id: int
    wallet_order: str  # app, SH01: 2 lattes and a croissant, wallet, welcome coupon
    card_order: str  # pos, SH02: 1 latte and 2 croissants, wechat pay
    welcome_coupon: str
    expired_coupon: str


def write_catalogue(lake: Lake) -> None:
    """The DWD products, list prices and stores the checkout catalogue is synced from."""
    products = [
        {
            "source": "erp",
            "product_id": pid,
            "name": name,
            "name_en": name_en,
            "category": category,
            "subcategory": None,
            "launched_on": LAUNCHED,
            "retired_on": None,
            "is_new": False,
        }
        for pid, name, name_en, category, _ in PRODUCTS
    ]
    prices = [
        {
            "source": "erp",
            "product_id": pid,
            "currency": "CNY",
            "price_minor": price,
            "cost_minor": price // 3,
            "valid_from": LAUNCHED,
        }
        for pid, _, _, _, price in PRODUCTS
    ]
    stores = [
        {
            "source": "erp",
            "store_id": store_id,
            "name": name,
            "city": city,
            "country": country,
            "timezone": timezone,
            "currency": currency,
            "format": "standard",
            "floor_area_m2": 80.0,
            "seats": 20,
            "opened_on": LAUNCHED,
            "closed_on": None,
            "latitude": 31.2,
            "longitude": 121.5,
            "warehouse_id": "DC01",
        }
        for store_id, name, city, country, timezone, currency in STORES
    ]
    for table, rows in (("products", products), ("product_prices", prices), ("stores", stores)):
        data = pa.Table.from_pylist(rows, schema=dwd.table(table).schema)
        lake.write_partition("dwd", table, {}, data)


def seed(oltp: Engine, lake: Lake, settings: Settings, *, now: dt.datetime) -> World:
    write_catalogue(lake)
    with oltp.begin() as conn:
        ensure_demo_templates(conn, now=now - dt.timedelta(days=60))
        ensure_demo_schemes(conn, now=now - dt.timedelta(days=60))
        sync_catalogue(conn, lake, now=now)
        import_members(
            conn,
            "erp",
            [{"source_record_id": "E1", "phone": "13800138000", "name": "Member E1"}],
            protector=PiiProtector.from_settings(settings),
            now=now - dt.timedelta(days=40),
        )
        person = person_of(conn, "erp", "E1")
        assert person is not None
        membership = enrol(
            conn,
            "coffee_club",
            person,
            channel="app",
            actor="test",
            now=now - dt.timedelta(days=40),
        )
        wallet.top_up(
            conn,
            membership.id,
            10_000,
            bonus_minor=1_000,
            currency="CNY",
            natural_key="topup-1",
            payment_method="wechat_pay",
            actor="test",
            now=now - dt.timedelta(days=35),
        )
        old = issue(
            conn,
            "size_up",
            [person],
            issue_key="spring",
            actor="test",
            now=now - dt.timedelta(days=30),
        ).coupon_ids[0]
        expire_due(conn, now=now - dt.timedelta(days=1))
        welcome = issue(
            conn,
            "welcome_5_off",
            [person],
            issue_key="welcome",
            actor="test",
            now=now - dt.timedelta(days=3),
        ).coupon_ids[0]
    wallet_order = _place(
        oltp,
        CheckoutRequest(
            channel="app",
            store_id="SH01",
            client_order_id="APP-1",
            fulfilment="pickup",
            payment_method="stored_value",
            lines=[LineRequest("P001", 2, "M"), LineRequest("P002", 1)],
            member=MemberRef(person_id=person),
            coupon_ids=[welcome],
        ),
        now=now - dt.timedelta(days=2),
    )
    card_order = _place(
        oltp,
        CheckoutRequest(
            channel="pos",
            store_id="SH02",
            client_order_id="POS-1",
            fulfilment="dine_in",
            payment_method="wechat_pay",
            lines=[LineRequest("P001", 1, "M"), LineRequest("P002", 2)],
            member=MemberRef(person_id=person),
        ),
        now=now - dt.timedelta(days=1),
    )
    return World(person, membership.id, wallet_order, card_order, welcome, old)


def _place(oltp: Engine, request: CheckoutRequest, *, now: dt.datetime) -> str:
    with oltp.begin() as conn:
        placed, _ = place(conn, request, actor="test", now=now)
    return placed.order_id
