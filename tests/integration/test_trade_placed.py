"""Placing an order answers with the order and queues it for the lake from the rows it has just
written, without reading them back: on both databases, what it answers and queues equals what
reading the order back gives, for guests, members named by a record or by a person id, tier
discounts, item and order coupons, and a replayed order id."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.trade_setup import (
    BEANS,
    CROISSANT,
    FIVE_OFF,
    FREE_COFFEE,
    LATTE,
    NOW,
    basket,
    give_coupon,
    new_shopper,
    seed_shop,
    top_up,
)

from newretail.oltp.tables import trade_outbox
from newretail.trade import orders
from newretail.trade.checkout import CheckoutRequest, MemberRef
from newretail.trade.order_views import get_order, placed_view
from newretail.trade.outbox import enqueue_order


@pytest.fixture(scope="module")
def shop(migrated_engine: Engine) -> Engine:
    seed_shop(migrated_engine)
    return migrated_engine


def _requests(shop: Engine) -> dict[str, CheckoutRequest]:
    gold = new_shopper(shop, tier="gold")
    top_up(shop, gold, 20_000, bonus_minor=2_000)
    member = new_shopper(shop)
    by_person = new_shopper(shop)
    return {
        "guest": basket(None, (LATTE, 2, "L"), (CROISSANT, 1)),
        "gold with two coupons and the wallet": basket(
            gold,
            (LATTE, 2, "L"),
            (CROISSANT, 3),
            (BEANS, 1),
            coupons=(give_coupon(shop, gold, FREE_COFFEE), give_coupon(shop, gold, FIVE_OFF)),
            payment="stored_value",
        ),
        "member by app record": basket(member, (BEANS, 2)),
        "member by person id": dataclasses.replace(
            basket(by_person, (LATTE, 1), coupons=(give_coupon(shop, by_person, FIVE_OFF),)),
            member=MemberRef(person_id=by_person.person_id),
        ),
    }


def _payload(conn: Connection, outbox_id: int) -> Any:
    return conn.execute(
        select(trade_outbox.c.payload).where(trade_outbox.c.id == outbox_id)
    ).scalar_one()


def test_the_answer_and_the_queued_rows_equal_the_order_read_back(shop: Engine) -> None:
    for name, request in _requests(shop).items():
        with shop.begin() as conn:
            placed, _ = orders.place(conn, request, actor="test", now=NOW)
            answered = placed_view(conn, placed)
            queued = conn.execute(select(trade_outbox.c.id).order_by(trade_outbox.c.id.desc()))
            queued_id = queued.scalars().first()
        assert placed.rows is not None and not placed.replayed
        with shop.connect() as conn:
            assert answered == get_order(conn, placed.order_id), name
            assert queued_id is not None
            as_placed = _payload(conn, queued_id)
            assert as_placed["tables"]["orders"][0]["order_id"] == placed.order_id
            # What queueing the same order by its id writes, read back from the database.
            assert _payload(conn, enqueue_order(conn, placed.order_id, now=NOW)) == as_placed, name
            conn.rollback()


def test_a_replayed_order_id_answers_with_the_order_read_back(shop: Engine) -> None:
    request = basket(new_shopper(shop), (LATTE, 1))
    with shop.begin() as conn:
        first, _ = orders.place(conn, request, actor="test", now=NOW)
        first_view = placed_view(conn, first)
    with shop.begin() as conn:
        again, basket_again = orders.place(conn, request, actor="test", now=NOW)
        assert (again.order_id, again.replayed, again.rows, basket_again) == (
            first.order_id,
            True,
            None,
            None,
        )
        assert placed_view(conn, again) == first_view
