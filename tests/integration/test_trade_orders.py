"""Checkout on both databases: quote and place with tier discounts, coupons, wallet and points; the
channel's order id as natural key; refunds in parts adding up to a whole; refusals that write
nothing; and, on PostgreSQL, racing checkouts that never double-spend a coupon or overdraw a wallet."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.trade_setup import (
    BEANS,
    CROISSANT,
    FIVE_OFF,
    FREE_COFFEE,
    GOLD_DISCOUNT,
    L_UPCHARGE,
    LATTE,
    NOW,
    PRICES,
    TWENTY_PCT,
    Shopper,
    basket,
    counts,
    give_coupon,
    new_shopper,
    seed_shop,
    top_up,
)

from newretail.errors import Conflict, InvalidInput, NewRetailError, NotFound
from newretail.loyalty import ledger, wallet
from newretail.loyalty.coupons import get_coupon
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import orders, trade_outbox
from newretail.trade import orders as order_service
from newretail.trade.checkout import CheckoutRequest
from newretail.trade.order_views import get_order
from newretail.trade.refunds import RefundLine, refund


@pytest.fixture(scope="module")
def shop(migrated_engine: Engine) -> Engine:
    seed_shop(migrated_engine)
    return migrated_engine


def place(engine: Engine, request: CheckoutRequest) -> str:
    with engine.begin() as conn:
        placed, _ = order_service.place(conn, request, actor="test", now=NOW)
    return placed.order_id


def balances(engine: Engine, shopper: Shopper) -> tuple[int, int, int]:
    """Points, wallet principal and wallet bonus."""
    with engine.connect() as conn:
        money = wallet.balances(conn, shopper.membership_id)
        return (
            ledger.balance(conn, shopper.membership_id, "points"),
            money.principal_minor,
            money.bonus_minor,
        )


def test_a_guest_order_costs_its_list_prices_and_earns_nothing(shop: Engine) -> None:
    order_id = place(shop, basket(None, (LATTE, 2, "L"), (CROISSANT, 1)))
    with shop.connect() as conn:
        view = get_order(conn, order_id)
        queued = [
            payload["tables"]["orders"][0]["order_id"]
            for topic, payload in conn.execute(select(trade_outbox.c.topic, trade_outbox.c.payload))
            if topic == "order"
        ]
    expected = 2 * (PRICES[LATTE] + L_UPCHARGE) + PRICES[CROISSANT]
    assert (view.order.gross_minor, view.order.paid_minor) == (expected, expected)
    assert view.order.person_id is None and view.order.points_earned == 0
    assert [line.net_minor for line in view.lines] == [2 * (PRICES[LATTE] + L_UPCHARGE), 1800]
    assert order_id in queued, "the order is queued for the lake"


def test_a_member_earns_a_point_per_yuan_with_retail_at_half_rate(shop: Engine) -> None:
    shopper = new_shopper(shop)
    order_id = place(shop, basket(shopper, (LATTE, 1), (BEANS, 1)))
    with shop.connect() as conn:
        view = get_order(conn, order_id)
    assert [line.points_earned for line in view.lines] == [
        PRICES[LATTE] // 100,
        PRICES[BEANS] // 100 // 2,
    ]
    assert balances(shop, shopper)[0] == view.order.points_earned


def test_gold_members_get_their_tier_discount_before_an_order_coupon(shop: Engine) -> None:
    shopper = new_shopper(shop, tier="gold")
    code = give_coupon(shop, shopper, FIVE_OFF)
    with shop.connect() as conn:
        quoted = order_service.quote(conn, basket(shopper, (LATTE, 1), coupons=(code,)), now=NOW)
    tier_off = PRICES[LATTE] * GOLD_DISCOUNT // 100
    assert [step.source for step in quoted.quote.steps] == ["tier", "coupon"]
    assert quoted.quote.total_minor == PRICES[LATTE] - tier_off - 500


def test_a_coupon_that_does_not_stack_with_the_tier_turns_the_tier_discount_off(
    shop: Engine,
) -> None:
    shopper = new_shopper(shop, tier="gold")
    code = give_coupon(shop, shopper, TWENTY_PCT)
    with shop.connect() as conn:
        quoted = order_service.quote(conn, basket(shopper, (LATTE, 1), coupons=(code,)), now=NOW)
    assert [step.source for step in quoted.quote.steps] == ["coupon"]
    assert quoted.quote.total_minor == PRICES[LATTE] - min(PRICES[LATTE] * 20 // 100, 1000)


def test_placing_redeems_the_coupon_charges_the_wallet_and_earns_points_at_once(
    shop: Engine,
) -> None:
    shopper = new_shopper(shop)
    top_up(shop, shopper, 10_000, bonus_minor=1_000)
    code = give_coupon(shop, shopper, FREE_COFFEE)
    order_id = place(
        shop,
        basket(shopper, (LATTE, 2), (CROISSANT, 1), coupons=(code,), payment="stored_value"),
    )
    with shop.connect() as conn:
        view = get_order(conn, order_id)
        coupon = get_coupon(conn, code)
    paid = PRICES[LATTE] + PRICES[CROISSANT]
    assert view.order.paid_minor == view.order.wallet_minor == paid
    assert (coupon.status, coupon.order_id, coupon.discount_minor) == (
        "redeemed",
        order_id,
        PRICES[LATTE],
    )
    points, principal, bonus = balances(shop, shopper)
    assert principal + bonus == 11_000 - paid
    assert points == view.order.points_earned == sum(line.net_minor // 100 for line in view.lines)


def test_the_same_channel_order_id_places_one_order(shop: Engine) -> None:
    shopper = new_shopper(shop)
    top_up(shop, shopper, 10_000)
    code = give_coupon(shop, shopper, FIVE_OFF)
    request = basket(shopper, (LATTE, 1), coupons=(code,), payment="stored_value")
    first = place(shop, request)
    with shop.begin() as conn:
        again, basket_again = order_service.place(conn, request, actor="test", now=NOW)
    assert (again.order_id, again.replayed, basket_again) == (first, True, None)
    with shop.connect() as conn:
        placed = conn.execute(
            select(orders.c.id).where(orders.c.client_order_id == request.client_order_id)
        ).all()
    assert len(placed) == 1
    assert balances(shop, shopper)[1] == 10_000 - (PRICES[LATTE] - 500)


def test_refunds_in_parts_restore_everything_a_whole_refund_would(shop: Engine) -> None:
    shopper = new_shopper(shop)
    top_up(shop, shopper, 20_000, bonus_minor=2_000)
    code = give_coupon(shop, shopper, FIVE_OFF)
    before = balances(shop, shopper)
    order_id = place(
        shop,
        basket(shopper, (LATTE, 3), (BEANS, 1), coupons=(code,), payment="stored_value"),
    )
    with shop.begin() as conn:
        first = refund(
            conn,
            order_id,
            lines=[RefundLine(1, 1)],
            refund_key="r1",
            reason="quality",
            actor="test",
            now=NOW,
        )
    with shop.connect() as conn:
        assert get_coupon(conn, code).status == "redeemed", "a partial refund keeps the coupon"
        assert get_order(conn, order_id).order.status == "partially_refunded"
    with shop.begin() as conn:
        rest = refund(
            conn, order_id, lines=None, refund_key="r2", reason="quality", actor="test", now=NOW
        )
    with shop.connect() as conn:
        view = get_order(conn, order_id)
        coupon = get_coupon(conn, code)
        report = reconcile(conn)
    assert first.amount_minor + rest.amount_minor == view.order.paid_minor
    assert view.order.status == "refunded" and view.order.refunded_minor == view.order.paid_minor
    assert coupon.status == "issued" and coupon.order_id is None
    assert rest.coupons_restored == [code]
    assert balances(shop, shopper) == before
    assert report.differences == []


def test_a_refund_key_used_again_refunds_once(shop: Engine) -> None:
    shopper = new_shopper(shop)
    order_id = place(shop, basket(shopper, (LATTE, 2)))
    for _ in range(2):
        with shop.begin() as conn:
            done = refund(
                conn,
                order_id,
                lines=[RefundLine(1, 1)],
                refund_key="same",
                reason="late",
                actor="test",
                now=NOW,
            )
    assert done.replayed
    with shop.connect() as conn:
        assert get_order(conn, order_id).lines[0].refunded_quantity == 1


def refused(engine: Engine, action: Callable[[], object]) -> NewRetailError:
    with engine.connect() as conn:
        before = counts(conn)
    with pytest.raises(NewRetailError) as caught:
        action()
    with engine.connect() as conn:
        assert counts(conn) == before, "a refusal wrote nothing"
    return caught.value


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        ([("P-NOPE", 1)], "order.unknown_item", "lines[0].product_id"),
        ([(LATTE, 0)], "order.bad_quantity", "lines[0].quantity"),
        ([(LATTE, -2)], "order.bad_quantity", "lines[0].quantity"),
        ([(LATTE, 1, "XL")], "order.unknown_size", "lines[0].size"),
    ],
)
def test_bad_lines_are_refused_naming_the_line(
    shop: Engine, lines: list[tuple[str, int] | tuple[str, int, str]], code: str, field: str
) -> None:
    shopper = new_shopper(shop)
    error = refused(shop, lambda: place(shop, basket(shopper, *lines)))
    assert (type(error), error.code, error.field) == (InvalidInput, code, field)


def test_a_closed_store_and_an_unknown_store_are_refused(shop: Engine) -> None:
    closed = refused(shop, lambda: place(shop, basket(None, (LATTE, 1), store="S9")))
    unknown = refused(shop, lambda: place(shop, basket(None, (LATTE, 1), store="S404")))
    assert closed.code == "order.store_closed"
    assert (type(unknown), unknown.field) == (NotFound, "store_id")


def test_an_overdrawn_wallet_places_nothing_and_keeps_the_coupon(shop: Engine) -> None:
    shopper = new_shopper(shop)
    top_up(shop, shopper, 1_000)
    code = give_coupon(shop, shopper, FIVE_OFF)
    error = refused(
        shop,
        lambda: place(shop, basket(shopper, (LATTE, 1), coupons=(code,), payment="stored_value")),
    )
    assert (type(error), error.code) == (Conflict, "wallet.insufficient")
    with shop.connect() as conn:
        assert get_coupon(conn, code).status == "issued"
    assert balances(shop, shopper)[1] == 1_000


def test_used_and_foreign_coupons_are_refused(shop: Engine) -> None:
    owner, other = new_shopper(shop), new_shopper(shop)
    code = give_coupon(shop, owner, FIVE_OFF)
    place(shop, basket(owner, (LATTE, 1), coupons=(code,)))
    used = refused(shop, lambda: place(shop, basket(owner, (LATTE, 1), coupons=(code,))))
    foreign_code = give_coupon(shop, owner, FIVE_OFF)
    foreign = refused(shop, lambda: place(shop, basket(other, (LATTE, 1), coupons=(foreign_code,))))
    assert (used.code, used.field) == ("coupon.used", "coupons[0]")
    assert (foreign.code, foreign.field) == ("coupon.foreign", "coupons[0]")


def test_a_coupon_below_its_threshold_is_refused(shop: Engine) -> None:
    shopper = new_shopper(shop)
    code = give_coupon(shop, shopper, FIVE_OFF)
    error = refused(shop, lambda: place(shop, basket(shopper, (CROISSANT, 1), coupons=(code,))))
    assert (error.code, error.field) == ("coupon.below_threshold", "coupons[0]")


def test_a_refund_larger_than_the_order_is_refused(shop: Engine) -> None:
    order_id = place(shop, basket(new_shopper(shop), (LATTE, 2)))

    def too_many() -> None:
        with shop.begin() as conn:
            refund(
                conn,
                order_id,
                lines=[RefundLine(1, 3)],
                refund_key="big",
                reason="other",
                actor="test",
                now=NOW,
            )

    error = refused(shop, too_many)
    assert (error.code, error.field) == ("refund.exceeds_order", "lines[0].quantity")


def race(engine: Engine, count: int, request_for: Callable[[int], CheckoutRequest]) -> list[str]:
    """Place ``count`` orders at once, each in its own thread and transaction; the error codes."""
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def one(index: int) -> None:
        start.wait()
        try:
            place(engine, request_for(index))
            outcome = "placed"
        except NewRetailError as error:
            outcome = error.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.slow
def test_racing_checkouts_redeem_a_coupon_once(shop: Engine, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level races need PostgreSQL; SQLite serialises every writer")
    shopper = new_shopper(shop)
    code = give_coupon(shop, shopper, FIVE_OFF)
    outcomes = race(shop, 20, lambda _: basket(shopper, (LATTE, 1), coupons=(code,)))
    assert outcomes.count("placed") == 1
    assert set(outcomes) - {"placed"} == {"coupon.used"}


@pytest.mark.slow
def test_racing_wallet_checkouts_never_overdraw(shop: Engine, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level races need PostgreSQL; SQLite serialises every writer")
    shopper = new_shopper(shop)
    top_up(shop, shopper, 10 * PRICES[CROISSANT] + 100)
    outcomes = race(shop, 25, lambda _: basket(shopper, (CROISSANT, 1), payment="stored_value"))
    assert outcomes.count("placed") == 10
    assert set(outcomes) - {"placed"} == {"wallet.insufficient"}
    assert balances(shop, shopper)[1] == 100
    with shop.connect() as conn:
        assert reconcile(conn).differences == []
