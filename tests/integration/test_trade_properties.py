"""Random sequences of checkout operations on both databases: top-ups, orders (random baskets, an
optional coupon, wallet or card), partial and full refunds of random lines (and refund keys sent
again), points spent, days passing and orders placed again. After every step each balance equals its
ledger and reconcile finds nothing, the wallet is never negative and matches the model, an order's
refunds add up to its refunded amount and never pass what was paid, a fully refunded order has its
coupon back, and points are earned less reversed less spent less expired. Once everything is refunded
the wallet and points are what the top-ups and spends alone make them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.trade_property_setup import (
    NO_COUPON,
    REUSE,
    STEPS,
    TEMPLATES,
    Advance,
    Model,
    Order,
    PlaceAgain,
    Placed,
    RefundStep,
    Spend,
    Step,
    TopUp,
    balances,
    entry_sums,
    give_coupon,
    points_by_kind,
    snapshot,
)
from tests.integration.trade_setup import new_shopper, seed_shop

from newretail.errors import NewRetailError
from newretail.loyalty import points, wallet
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import coupons
from newretail.trade import orders
from newretail.trade.checkout import STORED_VALUE
from newretail.trade.order_views import get_order
from newretail.trade.refunds import RefundLine, refund

pytestmark = pytest.mark.slow  # about 6 s on SQLite and 15 s on PostgreSQL

# The refusals a random sequence may meet; anything else fails the test.
EXPECTED_REFUSALS = {
    "coupon.below_threshold",
    "coupon.expired",
    "coupon.not_applicable",
    "coupon.used",
    "points.insufficient",
    "refund.exceeds_order",
    "refund.nothing_left",
    "wallet.insufficient",
}


@pytest.fixture(scope="module")
def shop(migrated_engine: Engine) -> Engine:
    seed_shop(migrated_engine)
    return migrated_engine


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    tier=st.sampled_from(["member", "gold"]),
    first=st.builds(TopUp, st.integers(5_000, 50_000), st.integers(0, 5_000)),
    steps=st.lists(STEPS, min_size=4, max_size=16),
)
def test_random_checkouts_and_refunds_keep_every_balance_equal_to_its_ledger(
    shop: Engine, tier: str, first: TopUp, steps: list[Step]
) -> None:
    model = Model(new_shopper(shop, tier=tier))
    for step in [first, *steps]:
        run_step(shop, model, step)
        check(shop, model)
    for order in model.orders:
        if not order.fully_refunded:
            refund_new(shop, model, order, None)
    check(shop, model)
    with shop.connect() as conn:
        held = balances(conn, model.shopper.membership_id)
    # Everything refunded: only the top-ups and the points spent are left to show.
    assert held == {"principal": model.principal, "bonus": model.bonus, "points": -model.spent}
    assert set(model.coupons.values()) <= {None}


def run_step(engine: Engine, model: Model, step: Step) -> None:
    if isinstance(step, TopUp):
        with engine.begin() as conn:
            wallet.top_up(
                conn,
                model.shopper.membership_id,
                step.amount,
                bonus_minor=step.bonus,
                currency="CNY",
                natural_key=model.key("top-up"),
                payment_method="wechat_pay",
                actor="test",
                now=model.now,
            )
        model.principal += step.amount
        model.bonus += step.bonus
    elif isinstance(step, Order):
        place_order(engine, model, step)
    elif isinstance(step, RefundStep):
        if model.orders:
            order = model.orders[step.order % len(model.orders)]
            lines = model.refund_lines(order, step)
            if step.again and order.refunds:
                refund_again(engine, model, order, lines, step.again)
            else:
                refund_new(engine, model, order, lines)
    elif isinstance(step, Spend):
        spend(engine, model, step.points)
    elif isinstance(step, Advance):
        model.now += dt.timedelta(days=step.days)
    else:
        place_again(engine, model, step)


def attempt(engine: Engine, model: Model, call: Callable[[], None], expected: str | None) -> bool:
    """Run ``call``; True when it succeeded as ``expected`` (None), False when it was refused with
    the ``expected`` code and changed nothing."""
    with engine.connect() as conn:
        before = snapshot(conn, model)
    try:
        call()
    except NewRetailError as error:
        assert error.code in EXPECTED_REFUSALS, error
        assert error.code == expected, (error.code, expected)
        event(f"refused: {error.code}")
        with engine.connect() as conn:
            assert snapshot(conn, model) == before, f"{error.code} changed something"
        return False
    assert expected is None, f"succeeded where {expected} was expected"
    event(f"done: {call.__name__}")
    return True


def place_order(engine: Engine, model: Model, step: Order) -> None:
    coupon_ids: tuple[str, ...] = ()
    if step.coupon == REUSE and model.coupons:
        coupon_ids = (list(model.coupons)[step.pick % len(model.coupons)],)
    elif step.coupon not in (NO_COUPON, REUSE):
        coupon_ids = (give_coupon(engine, model, TEMPLATES[step.coupon - 1]),)
    request = model.request(step, coupon_ids)
    # What placing should do, from a quote (coupons and pricing) and the model's wallet.
    expected = total = earned = None
    with engine.connect() as conn:
        try:
            basket = orders.quote(conn, request, now=model.now)
            total, earned = basket.quote.total_minor, basket.points
        except NewRetailError as error:
            expected = error.code
    if any(model.coupons[coupon] is not None for coupon in coupon_ids):
        assert expected == "coupon.used"
    if expected is None and step.from_wallet and total and total > model.wallet:
        expected = "wallet.insufficient"
    placed: list[str] = []

    def place() -> None:
        with engine.begin() as conn:
            done, _ = orders.place(conn, request, actor="test", now=model.now)
        assert not done.replayed
        placed.append(done.order_id)

    if not attempt(engine, model, place, expected):
        return
    with engine.connect() as conn:
        view = get_order(conn, placed[0])
    assert (view.order.paid_minor, view.order.points_earned) == (total, earned)
    assert view.order.wallet_minor == (total if request.payment_method == STORED_VALUE else 0)
    model.orders.append(
        Placed(
            order_id=placed[0],
            request=request,
            coupons=coupon_ids,
            paid=view.order.paid_minor,
            wallet=view.order.wallet_minor,
            points=view.order.points_earned,
            quantities={line.line_no: line.quantity for line in view.lines},
            refunded={line.line_no: 0 for line in view.lines},
        )
    )
    for coupon in coupon_ids:
        model.coupons[coupon] = placed[0]


def place_again(engine: Engine, model: Model, step: PlaceAgain) -> None:
    """The same channel order id again (a till retrying): the first order, nothing changed."""
    if not model.orders:
        return
    order = model.orders[step.order % len(model.orders)]
    with engine.connect() as conn:
        before = snapshot(conn, model)
    with engine.begin() as conn:
        done, basket = orders.place(conn, order.request, actor="test", now=model.now)
    assert (done.order_id, done.replayed, basket) == (order.order_id, True, None)
    event("an order id again")
    with engine.connect() as conn:
        assert snapshot(conn, model) == before


def refund_new(
    engine: Engine, model: Model, order: Placed, lines: Sequence[RefundLine] | None
) -> None:
    left = {no: order.quantities[no] - order.refunded[no] for no in order.quantities}
    wanted: dict[int, int] = {}
    for asked in lines or ():
        wanted[asked.line_no] = wanted.get(asked.line_no, 0) + asked.quantity
    if lines is None:
        wanted = {no: quantity for no, quantity in left.items() if quantity}
        expected = None if wanted else "refund.nothing_left"
    else:
        exceeds = any(quantity > left[no] for no, quantity in wanted.items())
        expected = "refund.exceeds_order" if exceeds else None
    key = model.key("refund")
    done = []

    def give_back() -> None:
        with engine.begin() as conn:
            done.append(
                refund(
                    conn,
                    order.order_id,
                    lines=lines,
                    refund_key=key,
                    reason="quality",
                    actor="test",
                    now=model.now,
                )
            )

    if not attempt(engine, model, give_back, expected):
        return
    (answer,) = done
    assert not answer.replayed
    assert [(no, quantity) for no, quantity, _ in answer.lines] == sorted(wanted.items())
    assert answer.amount_minor >= 0 and answer.wallet_minor >= 0 and answer.points_reversed >= 0
    for no, quantity in wanted.items():
        order.refunded[no] += quantity
    order.refunds[key] = answer
    event("refunded: whole order" if order.fully_refunded else "refunded: part")
    if order.fully_refunded:
        assert answer.coupons_restored == sorted(order.coupons)
        for coupon in order.coupons:
            model.coupons[coupon] = None
            event("a coupon given back")
    else:
        assert answer.coupons_restored == []


def refund_again(
    engine: Engine, model: Model, order: Placed, lines: Sequence[RefundLine] | None, pick: int
) -> None:
    """An earlier refund key of the order again, whatever lines come with it: the first refund."""
    key = list(order.refunds)[pick % len(order.refunds)]
    with engine.connect() as conn:
        before = snapshot(conn, model)
    with engine.begin() as conn:
        answer = refund(
            conn,
            order.order_id,
            lines=lines,
            refund_key=key,
            reason="other",
            actor="test",
            now=model.now,
        )
    assert answer.replayed
    event("a refund key again")
    assert dataclasses.replace(answer, replayed=False) == order.refunds[key]
    with engine.connect() as conn:
        assert snapshot(conn, model) == before


def spend(engine: Engine, model: Model, amount: int) -> None:
    balance = model.earned - model.reversed - model.spent
    expected = None if balance >= amount else "points.insufficient"

    def spend_points() -> None:
        with engine.begin() as conn:
            points.spend(
                conn,
                model.shopper.membership_id,
                amount,
                natural_key=model.key("spend"),
                reason="reward",
                actor="test",
                now=model.now,
            )

    if attempt(engine, model, spend_points, expected):
        model.spent += amount


def check(engine: Engine, model: Model) -> None:
    """The invariants that hold after every step."""
    member = model.shopper.membership_id
    with engine.connect() as conn:
        assert reconcile(conn).differences == []
        for kind, (balance, total) in entry_sums(conn, member).items():
            assert balance == total, f"{kind} balance {balance} but its entries sum to {total}"
        held = balances(conn, member)
        by_kind = points_by_kind(conn, member)
        views = [get_order(conn, order.order_id) for order in model.orders]
        coupon_rows = {
            row.id: (row.status, row.order_id)
            for row in conn.execute(
                coupons.select().where(coupons.c.person_id == model.shopper.person_id)
            )
        }
    assert held["principal"] >= 0 and held["bonus"] >= 0
    assert held["principal"] + held["bonus"] == model.wallet
    assert by_kind.get("earn", 0) == model.earned
    assert -by_kind.get("reverse_earn", 0) == model.reversed
    assert -by_kind.get("spend", 0) == model.spent
    assert held["points"] == model.earned - model.reversed - model.spent + by_kind.get("expire", 0)
    for order, view in zip(model.orders, views, strict=True):
        refunded = sum(done.amount_minor for done in view.refunds)
        assert view.order.refunded_minor == refunded <= view.order.paid_minor
        assert {line.line_no: line.refunded_quantity for line in view.lines} == order.refunded
        assert {done.id for done in view.refunds} == {done.id for done in order.refunds.values()}
        if order.fully_refunded:
            assert view.order.status == "refunded" and refunded == order.paid
            assert sum(done.wallet_minor for done in view.refunds) == order.wallet
            assert sum(done.points_reversed for done in view.refunds) == order.points
        else:
            assert view.order.status == ("partially_refunded" if order.refunds else "placed")
    for coupon, order_id in model.coupons.items():
        status, on = coupon_rows[coupon]
        if order_id is None:
            assert status in ("issued", "expired") and on is None, (coupon, status)
            if status == "expired":
                event("a coupon given back expired")
        else:
            assert (status, on) == ("redeemed", order_id)
