"""The schemes and catalogue checkout reads through its in-process caches, on both databases: a change
this process makes shows on the next order, one it rolls back never does, and one made elsewhere
(here: rows changed behind the caches' back) shows once the entries are older than their TTL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Connection, Engine, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.trade_setup import (
    GOLD_DISCOUNT,
    LATTE,
    NOW,
    PRICES,
    SCHEME,
    basket,
    new_shopper,
    seed_shop,
)

from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import get_scheme, update_scheme
from newretail.oltp.read_cache import TTL, invalidate
from newretail.oltp.tables import catalogue_prices
from newretail.security import Principal
from newretail.trade import orders
from newretail.trade.catalogue import CATALOGUE_TABLES
from newretail.trade.checkout import CheckoutRequest


@pytest.fixture(scope="module")
def shop(migrated_engine: Engine) -> Engine:
    seed_shop(migrated_engine)
    return migrated_engine


def total(conn: Connection, request: CheckoutRequest, now: dt.datetime = NOW) -> int:
    return orders.quote(conn, request, now=now).quote.total_minor


def with_gold_discount(conn: Connection, percent: int) -> None:
    scheme = get_scheme(conn, SCHEME)
    rules = scheme.rules.model_dump(mode="json")
    rules["tiers"][1]["discount_percent"] = percent
    draft = SchemeDraft.model_validate(
        {
            "id": scheme.id,
            "name": scheme.name,
            "name_en": scheme.name_en,
            "kind": scheme.kind,
            "currency": scheme.currency,
            "rules": rules,
            "active": scheme.active,
        }
    )
    update_scheme(conn, SCHEME, draft, actor=Principal.cli(), now=NOW)


def test_a_scheme_changed_here_prices_the_next_order_and_a_rolled_back_change_never(
    shop: Engine,
) -> None:
    request = basket(new_shopper(shop, tier="gold"), (LATTE, 1))
    discounted = {p: PRICES[LATTE] - PRICES[LATTE] * p // 100 for p in (GOLD_DISCOUNT, 20, 30)}
    with shop.connect() as conn:
        assert total(conn, request) == discounted[GOLD_DISCOUNT]
    with shop.begin() as conn:
        with_gold_discount(conn, 20)
        assert total(conn, request) == discounted[20], "the writer sees its own change"
    with shop.connect() as conn:
        assert total(conn, request) == discounted[20]
    with shop.connect() as conn:
        with_gold_discount(conn, 30)
        assert total(conn, request) == discounted[30]
        conn.rollback()
    with shop.connect() as conn:
        assert total(conn, request) == discounted[20], "a rolled-back change is never served"
    with shop.begin() as conn:
        with_gold_discount(conn, GOLD_DISCOUNT)


def test_a_price_changed_elsewhere_shows_within_the_ttl(shop: Engine) -> None:
    request = basket(None, (LATTE, 1))

    def reprice(conn: Connection, price: int) -> None:
        conn.execute(
            update(catalogue_prices)
            .where(catalogue_prices.c.product_id == LATTE)
            .values(price_minor=price)
        )

    with shop.connect() as conn:
        assert total(conn, request) == PRICES[LATTE]
    with shop.begin() as conn:
        reprice(conn, 4_000)  # as another process would: the cache is not told
    with shop.connect() as conn:
        assert total(conn, request) == PRICES[LATTE], "served from the cache within the TTL"
        assert total(conn, request, NOW + TTL) == 4_000
        assert total(conn, request, NOW - dt.timedelta(seconds=1)) == 4_000, "a clock gone back"
    with shop.begin() as conn:
        reprice(conn, PRICES[LATTE])
        invalidate(conn, *CATALOGUE_TABLES)  # as sync_catalogue does
    with shop.connect() as conn:
        assert total(conn, request) == PRICES[LATTE]
