"""What the rules give: points per line with every multiplier, top-up bonuses, tier lookup, expiry."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newretail.errors import InvalidInput, NotFound
from newretail.loyalty.demo_schemes import DEMO_SCHEMES
from newretail.loyalty.earning import (
    add_months,
    month_end,
    points_expiry,
    points_for_lines,
    tier_rule,
    topup_bonus,
)
from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import Scheme


def as_scheme(draft: SchemeDraft) -> Scheme:
    return Scheme(
        id=draft.id,
        name=draft.name,
        name_en=draft.name_en,
        kind=draft.kind,
        currency=draft.currency,
        rules=draft.rules,
        active=draft.active,
    )


COFFEE_CLUB, COFFEE_CLUB_SG, PAID_ANNUAL = (as_scheme(d) for d in DEMO_SCHEMES)


def custom(**earn: Any) -> Scheme:
    data = DEMO_SCHEMES[0].model_dump(mode="json")
    data["rules"]["earn"] = {"minor_per_point": 100, "expiry_months": 12, **earn}
    return as_scheme(SchemeDraft.model_validate(data))


def test_one_point_per_yuan_rounded_down_per_line() -> None:
    lines = [("coffee", 2_500), ("food", 1_599), ("coffee", 99), ("tea", 0)]
    assert points_for_lines(COFFEE_CLUB, "green", "app", lines) == [25, 15, 0, 0]


def test_tier_multiplier_raises_points() -> None:
    lines = [("coffee", 2_500)]
    assert points_for_lines(COFFEE_CLUB, "silver", "pos", lines) == [30]
    assert points_for_lines(COFFEE_CLUB, "gold", "pos", lines) == [37]
    assert points_for_lines(COFFEE_CLUB, "black", "pos", lines) == [50]


def test_category_multiplier_and_exclusions() -> None:
    # Retail (beans, merchandise) earns half in the demo scheme.
    assert points_for_lines(COFFEE_CLUB, "green", "app", [("retail", 8_800)]) == [44]
    scheme = custom(excluded_categories=["retail"], category_multiplier_percent={"food": 200})
    lines = [("retail", 8_800), ("food", 1_500), ("coffee", 2_000)]
    assert points_for_lines(scheme, "green", "app", lines) == [0, 30, 20]


def test_all_three_multipliers_compound_in_one_rounding() -> None:
    scheme = custom(
        channel_multiplier_percent={"mini_program": 150},
        category_multiplier_percent={"coffee": 110},
    )
    # 2,345 fen x 1.5 x 1.1 x 1.5 (gold) = 58.04 points; rounding once keeps the fractions.
    assert points_for_lines(scheme, "gold", "mini_program", [("coffee", 2_345)]) == [58]
    assert points_for_lines(scheme, "gold", "app", [("coffee", 2_345)]) == [38]


def test_coarser_earn_rate() -> None:
    scheme = custom(minor_per_point=1_000)  # a point per CNY 10
    assert points_for_lines(scheme, "green", "app", [("coffee", 9_999), ("coffee", 10_000)]) == [
        9,
        10,
    ]


def test_points_refuse_bad_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        points_for_lines(COFFEE_CLUB, "green", "app", [("coffee", 100), ("coffee", -1)])
    assert caught.value.code == "loyalty.bad_line" and caught.value.field == "lines[1]"
    with pytest.raises(InvalidInput) as caught:
        points_for_lines(COFFEE_CLUB, "green", "meituan", [("coffee", 100)])
    assert caught.value.code == "loyalty.channel_not_covered"
    with pytest.raises(NotFound):
        points_for_lines(COFFEE_CLUB, "platinum", "app", [("coffee", 100)])


@given(
    st.lists(
        st.tuples(st.sampled_from(["coffee", "tea", "food", "retail"]), st.integers(0, 10**7)),
        max_size=20,
    ),
    st.sampled_from(["green", "silver", "gold", "black"]),
)
def test_points_never_exceed_the_exact_share(lines: list[tuple[str, int]], tier: str) -> None:
    points = points_for_lines(COFFEE_CLUB, tier, "app", lines)
    multiplier = tier_rule(COFFEE_CLUB, tier).points_multiplier_percent
    for (category, net), got in zip(lines, points, strict=True):
        exact = Fraction(net * multiplier * (50 if category == "retail" else 100), 1_000_000)
        assert got <= exact < got + 1


def test_topup_bonus_takes_the_largest_step_reached() -> None:
    assert [topup_bonus(COFFEE_CLUB, a) for a in (5_000, 10_000, 29_999, 30_000, 50_000)] == [
        0,
        1_000,
        1_000,
        4_000,
        8_000,
    ]
    assert topup_bonus(COFFEE_CLUB, 200_000) == 8_000
    assert topup_bonus(COFFEE_CLUB_SG, 10_000) == 1_300
    assert topup_bonus(PAID_ANNUAL, 50_000) == 0  # no wallet in the paid scheme


def test_tier_rule_finds_the_rung() -> None:
    assert tier_rule(COFFEE_CLUB, "gold").discount_percent == 5
    assert tier_rule(COFFEE_CLUB, "green").threshold == 0
    with pytest.raises(NotFound) as caught:
        tier_rule(COFFEE_CLUB, "member")
    assert caught.value.code == "loyalty.tier_unknown"


def test_points_expire_at_the_end_of_the_twelfth_month() -> None:
    assert points_expiry(COFFEE_CLUB, dt.date(2025, 3, 15)) == dt.date(2026, 3, 31)
    assert points_expiry(COFFEE_CLUB, dt.date(2025, 3, 1)) == dt.date(2026, 3, 31)
    assert points_expiry(COFFEE_CLUB, dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert points_expiry(COFFEE_CLUB, dt.date(2025, 12, 31)) == dt.date(2026, 12, 31)
    assert points_expiry(custom(expiry_months=1), dt.date(2025, 12, 5)) == dt.date(2026, 1, 31)


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 3, 15), 12) == dt.date(2026, 3, 15)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 3, 15), -3) == dt.date(2024, 12, 15)
    assert month_end(dt.date(2024, 2, 3)) == dt.date(2024, 2, 29)
