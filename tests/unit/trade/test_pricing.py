"""The checkout pricing engine: each coupon kind, thresholds, caps, scope, stacking, apportioning, and
properties over random baskets (lines sum to the total, no line below zero, steps sum to the discount)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.trade.pricing import (
    PricingCoupon,
    PricingLine,
    PricingScope,
    Quote,
    apportion,
    price,
)

LATTE_L = PricingLine(1, "P002", "coffee", "L", 1, 2300, 300)  # 2000 list + 300 for L
AMERICANO_M = PricingLine(2, "P001", "coffee", "M", 2, 1500, 0)
CROISSANT = PricingLine(3, "P026", "food", None, 1, 1500, 0)
TUMBLER = PricingLine(4, "P036", "retail", None, 1, 12800, 0)
EVERYWHERE = PricingScope()


def quote(
    lines: Sequence[PricingLine],
    *coupons: PricingCoupon,
    tier: int = 0,
    channel: str = "app",
    store_id: str = "S0001",
) -> Quote:
    return price(
        lines, channel=channel, store_id=store_id, tier_discount_percent=tier, coupons=coupons
    )


def refused(
    lines: Sequence[PricingLine], *coupons: PricingCoupon, tier: int = 0, **where: str
) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        quote(lines, *coupons, tier=tier, **where)
    return caught.value


def nets(q: Quote) -> dict[int, int]:
    return {line.line_no: line.net_minor for line in q.lines}


def amount_off(
    amount: int,
    threshold: int | None = None,
    *,
    scope: PricingScope = EVERYWHERE,
    stacks_with_tier: bool = True,
) -> PricingCoupon:
    return PricingCoupon(
        "A",
        "amount_off",
        amount_off_minor=amount,
        threshold_minor=threshold,
        scope=scope,
        stacks_with_tier=stacks_with_tier,
    )


def percent_off(percent: int, cap: int | None = None) -> PricingCoupon:
    return PricingCoupon("P", "percent_off", percent_off=percent, cap_minor=cap)


# -- no discounts and the tier discount -------------------------------------------------------------


def test_a_basket_without_discounts_costs_its_gross() -> None:
    q = quote([LATTE_L, AMERICANO_M])
    assert (q.gross_minor, q.discount_minor, q.total_minor) == (5300, 0, 5300)
    assert q.steps == []
    assert q.coupon_discounts == {}
    assert [(x.line_no, x.gross_minor, x.net_minor) for x in q.lines] == [
        (1, 2300, 2300),
        (2, 3000, 3000),
    ]


def test_tier_discount_rounds_down_on_each_line() -> None:
    odd = PricingLine(5, "P012", "coffee", None, 1, 1255, 0)
    q = quote([odd, AMERICANO_M], tier=5)
    (step,) = q.steps
    assert (step.step, step.source, step.coupon_id) == (1, "tier", None)
    assert step.per_line == {5: 62, 2: 150}  # 62.75 rounds down
    assert q.total_minor == 1255 + 3000 - 212


def test_a_tier_discount_that_rounds_to_nothing_adds_no_step() -> None:
    penny = PricingLine(1, "X", "food", None, 1, 19, 0)
    q = quote([penny], tier=5)
    assert (q.steps, q.total_minor) == ([], 19)


def test_tier_applies_after_item_coupons_on_what_remains() -> None:
    free = PricingCoupon("F", "free_item")
    q = quote([AMERICANO_M], free, tier=10)
    assert [s.per_line for s in q.steps] == [{2: 1500}, {2: 150}]
    assert q.total_minor == 1350


def test_a_coupon_that_does_not_stack_with_the_tier_switches_it_off() -> None:
    q = quote([TUMBLER], amount_off(1000, stacks_with_tier=False), tier=10)
    assert [s.source for s in q.steps] == ["coupon"]
    assert q.total_minor == 11800
    stacking = quote([TUMBLER], amount_off(1000), tier=10)
    assert [s.source for s in stacking.steps] == ["tier", "coupon"]
    assert stacking.total_minor == 12800 - 1280 - 1000


def test_an_item_coupon_that_does_not_stack_switches_the_tier_off_too() -> None:
    q = quote([LATTE_L], PricingCoupon("U", "size_upgrade", stacks_with_tier=False), tier=10)
    assert q.total_minor == 2000


# -- item coupons --------------------------------------------------------------------------------------


def test_free_item_takes_one_unit_of_the_dearest_eligible_line() -> None:
    q = quote([AMERICANO_M, LATTE_L, CROISSANT], PricingCoupon("F", "free_item"))
    assert q.steps[0].per_line == {1: 2300}
    assert q.coupon_discounts == {"F": 2300}
    assert nets(q) == {2: 3000, 1: 0, 3: 1500}


def test_free_item_on_a_line_of_several_units_frees_one_of_them() -> None:
    q = quote([AMERICANO_M], PricingCoupon("F", "free_item"))
    assert nets(q) == {2: 1500}


def test_free_item_ties_go_to_the_earlier_line() -> None:
    other = PricingLine(9, "P026", "food", None, 1, 1500, 0)
    q = quote([CROISSANT, other], PricingCoupon("F", "free_item"))
    assert q.steps[0].per_line == {3: 1500}


def test_free_item_honours_a_target_category_or_product() -> None:
    by_category = PricingCoupon("F", "free_item", target_category="food")
    assert quote([TUMBLER, CROISSANT], by_category).steps[0].per_line == {3: 1500}
    by_product = PricingCoupon("F", "free_item", target_product_id="P001")
    assert quote([LATTE_L, AMERICANO_M], by_product).steps[0].per_line == {2: 1500}
    error = refused([LATTE_L], by_product)
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[0]")


def test_two_free_items_take_two_units() -> None:
    q = quote([AMERICANO_M], PricingCoupon("F1", "free_item"), PricingCoupon("F2", "free_item"))
    assert q.total_minor == 0
    assert q.coupon_discounts == {"F1": 1500, "F2": 1500}
    error = refused([LATTE_L], PricingCoupon("F1", "free_item"), PricingCoupon("F2", "free_item"))
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[1]")


def test_size_upgrade_takes_only_the_upcharge_of_one_unit() -> None:
    two_large = PricingLine(1, "P002", "coffee", "L", 2, 2300, 300)
    q = quote([two_large, AMERICANO_M], PricingCoupon("U", "size_upgrade"))
    assert q.steps[0].per_line == {1: 300}
    assert q.steps[0].label == "free size upgrade"
    assert q.total_minor == 4600 + 3000 - 300


def test_size_upgrade_picks_the_largest_upcharge() -> None:
    venti = PricingLine(7, "P009", "coffee", "XL", 1, 2800, 600)
    q = quote([LATTE_L, venti], PricingCoupon("U", "size_upgrade"))
    assert q.steps[0].per_line == {7: 600}


def test_size_upgrade_without_an_upsized_drink_is_refused() -> None:
    error = refused([AMERICANO_M, CROISSANT], PricingCoupon("U", "size_upgrade"))
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[0]")


def test_a_unit_takes_at_most_one_item_coupon_and_free_items_go_first() -> None:
    upgrade, free = PricingCoupon("U", "size_upgrade"), PricingCoupon("F", "free_item")
    error = refused([LATTE_L], upgrade, free)  # the free latte leaves no unit to upgrade
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[0]")
    two = PricingLine(1, "P002", "coffee", "L", 2, 2300, 300)
    q = quote([two], upgrade, free)
    assert [(s.coupon_id, s.amount_minor) for s in q.steps] == [("F", 2300), ("U", 300)]
    assert q.total_minor == 2000


# -- order-level coupons -------------------------------------------------------------------------------


def test_amount_off_needs_its_threshold() -> None:
    assert quote([LATTE_L, AMERICANO_M], amount_off(1000, 5300)).total_minor == 4300
    error = refused([LATTE_L, AMERICANO_M], amount_off(1000, 5301))
    assert (error.code, error.field) == ("coupon.below_threshold", "coupons[0]")


def test_threshold_is_measured_after_the_earlier_steps() -> None:
    coupon = amount_off(500, 5000)
    assert quote([LATTE_L, AMERICANO_M], coupon).total_minor == 4800
    assert refused([LATTE_L, AMERICANO_M], coupon, tier=10).code == "coupon.below_threshold"
    free = PricingCoupon("F", "free_item")
    error = refused([LATTE_L, AMERICANO_M], free, coupon)
    assert (error.code, error.field) == ("coupon.below_threshold", "coupons[1]")


def test_threshold_counts_only_lines_in_scope() -> None:
    coupon = amount_off(500, 3000, scope=PricingScope(categories=("coffee",)))
    assert quote([AMERICANO_M, CROISSANT], coupon).total_minor == 4000
    assert refused([LATTE_L, CROISSANT, TUMBLER], coupon).code == "coupon.below_threshold"


def test_amount_off_never_takes_more_than_the_eligible_lines_hold() -> None:
    q = quote([CROISSANT, TUMBLER], amount_off(5000, scope=PricingScope(products=("P026",))))
    assert nets(q) == {3: 0, 4: 12800}
    assert q.coupon_discounts == {"A": 1500}


def test_percent_off_rounds_down_and_respects_its_cap() -> None:
    odd = PricingLine(1, "P012", "coffee", None, 1, 1255, 0)
    assert quote([odd], percent_off(15)).discount_minor == 188  # 188.25
    assert quote([TUMBLER], percent_off(20, cap=2000)).discount_minor == 2000
    assert quote([TUMBLER], percent_off(20, cap=3000)).discount_minor == 2560


def test_percent_off_applies_after_the_tier() -> None:
    q = quote([TUMBLER], percent_off(10), tier=10)
    assert [s.amount_minor for s in q.steps] == [1280, 1152]


def test_a_coupon_that_would_take_nothing_is_refused() -> None:
    penny = PricingLine(1, "X", "food", None, 1, 9, 0)
    assert refused([penny], percent_off(10)).code == "coupon.not_applicable"
    everything_free = [PricingLine(1, "P001", "coffee", "M", 1, 1500, 0)]
    error = refused(everything_free, PricingCoupon("F", "free_item"), amount_off(100))
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[1]")


def test_two_order_level_coupons_are_refused() -> None:
    second = PricingCoupon("P", "percent_off", percent_off=10)
    error = refused([TUMBLER], amount_off(100), second)
    assert (error.code, error.field) == ("coupon.not_stackable", "coupons[1]")


def test_order_coupon_is_apportioned_over_eligible_lines_by_largest_remainder() -> None:
    lines = [
        PricingLine(1, "A", "coffee", None, 1, 1000, 0),
        PricingLine(2, "B", "coffee", None, 1, 1000, 0),
        PricingLine(3, "C", "coffee", None, 1, 1000, 0),
        PricingLine(4, "D", "retail", None, 1, 5000, 0),
    ]
    q = quote(lines, amount_off(1000, scope=PricingScope(categories=("coffee",))))
    assert q.steps[0].per_line == {1: 334, 2: 333, 3: 333}
    assert nets(q)[4] == 5000
    assert sum(line.discount_minor for line in q.lines) == 1000


def test_apportion_gives_leftover_units_to_the_largest_remainders() -> None:
    assert apportion(10, [(1, 1), (2, 2), (3, 4)]) == {1: 1, 2: 3, 3: 6}  # 1.43, 2.86, 5.71
    assert apportion(0, [(1, 5)]) == {1: 0}
    assert apportion(7, [(1, 7), (2, 0)]) == {1: 7, 2: 0}


# -- scope and refusals --------------------------------------------------------------------------------


def test_scope_by_channel_and_store() -> None:
    coupon = amount_off(100, scope=PricingScope(channels=("app",), stores=("S0001", "S0002")))
    assert quote([TUMBLER], coupon).total_minor == 12700
    error = refused([TUMBLER], coupon, channel="pos")
    assert (error.code, error.field) == ("coupon.out_of_scope", "coupons[0]")
    assert refused([TUMBLER], coupon, store_id="S0009").code == "coupon.out_of_scope"


def test_scope_by_product_or_category() -> None:
    coupon = amount_off(300, scope=PricingScope(products=("P036",), categories=("food",)))
    q = quote([LATTE_L, CROISSANT, TUMBLER], coupon)
    assert set(q.steps[0].per_line) == {3, 4}  # either list admits a line
    error = refused([LATTE_L], coupon)
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[0]")


def test_item_coupon_scope_limits_the_units_it_may_take() -> None:
    coupon = PricingCoupon("F", "free_item", scope=PricingScope(categories=("food",)))
    assert quote([TUMBLER, CROISSANT], coupon).steps[0].per_line == {3: 1500}


def test_the_same_coupon_twice_or_an_unknown_kind_is_refused() -> None:
    error = refused([TUMBLER], amount_off(100), amount_off(100))
    assert (error.code, error.field) == ("coupon.duplicate", "coupons[1]")
    error = refused([TUMBLER], PricingCoupon("X", "buy_one_get_one"))
    assert (error.code, error.field) == ("coupon.not_applicable", "coupons[0]")


def test_a_line_without_units_is_refused() -> None:
    empty = PricingLine(1, "P001", "coffee", None, 0, 1500, 0)
    error = refused([TUMBLER, empty])
    assert (error.code, error.field) == ("order.bad_quantity", "lines[1].quantity")


def test_steps_are_numbered_in_order_and_coupon_discounts_sum_per_coupon() -> None:
    two = PricingLine(1, "P002", "coffee", "L", 2, 2300, 300)
    q = quote(
        [two, TUMBLER],
        amount_off(1000),
        PricingCoupon("U", "size_upgrade"),
        PricingCoupon("F", "free_item", target_category="coffee"),
        tier=10,
    )
    assert [(s.step, s.source, s.coupon_id) for s in q.steps] == [
        (1, "coupon", "F"),
        (2, "coupon", "U"),
        (3, "tier", None),
        (4, "coupon", "A"),
    ]
    assert q.coupon_discounts == {"F": 2300, "U": 300, "A": 1000}
    assert q.steps[2].per_line == {1: 200, 4: 1280}


# -- properties ----------------------------------------------------------------------------------------

CATEGORIES = ("coffee", "tea", "food", "retail")
PRODUCTS = ("P1", "P2", "P3", "P4", "P5")


@st.composite
def baskets(draw: st.DrawFn) -> list[PricingLine]:
    count = draw(st.integers(1, 6))
    lines = []
    for n in range(1, count + 1):
        unit = draw(st.integers(0, 20_000))
        lines.append(
            PricingLine(
                line_no=n,
                product_id=draw(st.sampled_from(PRODUCTS)),
                category=draw(st.sampled_from(CATEGORIES)),
                size=None,
                quantity=draw(st.integers(1, 5)),
                unit_price_minor=unit,
                size_upcharge_minor=draw(st.integers(0, min(unit, 600))),
            )
        )
    return lines


# Mostly coupons that can apply, with now and then one for another channel or store.
scopes = st.builds(
    PricingScope,
    channels=st.sampled_from(
        [(), (), (), ("app", "pos"), ("app", "pos"), ("app", "mini"), ("pos",)]
    ),
    stores=st.sampled_from([(), (), (), ("S1", "S2"), ("S1", "S2"), ("S1",), ("S2",)]),
    products=st.lists(st.sampled_from(PRODUCTS), max_size=2).map(tuple),
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
)


@st.composite
def coupon_sets(draw: st.DrawFn) -> list[PricingCoupon]:
    """Up to three item coupons and usually at most one order-level coupon, in a random order."""
    kinds = draw(st.lists(st.sampled_from(["free_item", "size_upgrade"]), max_size=3))
    kinds += draw(
        st.sampled_from([[], ["amount_off"], ["percent_off"]] * 3 + [["amount_off", "percent_off"]])
    )
    kinds = draw(st.permutations(kinds))
    return [
        PricingCoupon(
            coupon_id=f"C{i}",
            kind=kind,
            amount_off_minor=draw(st.integers(1, 30_000)),
            threshold_minor=draw(st.none() | st.integers(0, 40_000)),
            percent_off=draw(st.integers(1, 99)),
            cap_minor=draw(st.none() | st.integers(1, 10_000)),
            target_category=draw(st.none() | st.sampled_from(CATEGORIES))
            if kind == "free_item"
            else None,
            scope=draw(st.just(EVERYWHERE) | scopes),
            stacks_with_tier=draw(st.booleans()),
        )
        for i, kind in enumerate(kinds)
    ]


REFUSALS = {
    "coupon.not_applicable",
    "coupon.below_threshold",
    "coupon.out_of_scope",
    "coupon.not_stackable",
}


@settings(max_examples=500, deadline=None)
@given(baskets(), coupon_sets(), st.integers(0, 50), st.sampled_from(["app", "pos"]))
def test_lines_sum_to_the_total_and_steps_to_the_discount(
    lines: list[PricingLine], coupons: list[PricingCoupon], tier: int, channel: str
) -> None:
    try:
        q = quote(lines, *coupons, tier=tier, channel=channel, store_id="S1")
    except InvalidInput as error:
        assert error.code in REFUSALS
        assert error.field is not None and error.field.startswith("coupons[")
        return
    assert sum(line.net_minor for line in q.lines) == q.total_minor
    assert q.total_minor == q.gross_minor - q.discount_minor
    assert q.discount_minor == sum(step.amount_minor for step in q.steps)
    for line, quoted in zip(lines, q.lines, strict=True):
        assert quoted.gross_minor == line.unit_price_minor * line.quantity
        assert 0 <= quoted.net_minor <= quoted.gross_minor
        taken = sum(step.per_line.get(line.line_no, 0) for step in q.steps)
        assert quoted.discount_minor == taken
    for step in q.steps:
        assert step.amount_minor == sum(step.per_line.values()) > 0
        assert all(amount > 0 for amount in step.per_line.values())
    assert sum(q.coupon_discounts.values()) == sum(
        step.amount_minor for step in q.steps if step.source == "coupon"
    )
    assert set(q.coupon_discounts) == {c.coupon_id for c in coupons}


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 100_000), st.lists(st.integers(0, 50_000), min_size=1, max_size=8))
def test_apportion_sums_exactly_and_no_share_exceeds_its_weight(
    fraction: int, weights: list[int]
) -> None:
    total = sum(weights)
    amount = total * fraction // 100_000
    shares = apportion(amount, list(enumerate(weights)))
    assert sum(shares.values()) == (amount if total else 0)
    assert all(0 <= shares[i] <= w for i, w in enumerate(weights))
