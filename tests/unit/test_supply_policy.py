"""Replenishment proposals: every constraint holds for any input, the explanation adds up, bad input
is refused naming the location and material."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from newretail.errors import InvalidInput
from newretail.supply.replenish import (
    DemandForecast,
    OrderTerms,
    Proposal,
    StockPosition,
    propose,
)


def one_item(
    *,
    on_hand: int,
    transit: list[int],
    mean: list[float],
    sigma: list[float],
    lead: int,
    review: int,
    pack: int,
    min_packs: int,
    shelf: int,
    service_level: float = 0.9,
) -> Proposal:
    return propose(
        StockPosition(on_hand=[[on_hand]], in_transit=[[transit]]),
        DemandForecast(mean=[[mean]], sigma=[[sigma]]),
        OrderTerms(
            lead_days=[lead],
            review_days=[review],
            pack_size=[pack],
            min_order_packs=[min_packs],
            shelf_life_days=[shelf],
        ),
        service_level=service_level,
        location_ids=["S1"],
        material_ids=["M1"],
    )


def test_hand_computed_order_with_every_figure() -> None:
    # Lead 2, review 1: protection = days t+1..t+2, forecast 10 + 10 = 20, variance 4 + 4.
    z = norm.ppf(0.9)
    p = one_item(
        on_hand=5,
        transit=[3, 0, 0, 0],  # 3 arrive tomorrow, inside the protection period
        mean=[10, 10, 12, 12, 12, 12],
        sigma=[2, 2, 2, 2, 2, 2],
        lead=2,
        review=1,
        pack=6,
        min_packs=2,
        shelf=3,
    ).explain(0, 0)
    assert p.forecast == pytest.approx(20)
    assert p.safety_stock == pytest.approx(z * math.sqrt(8))
    assert (p.on_hand, p.in_transit, p.position) == (5, 3, 8)
    assert p.raw_need == math.ceil(20 + z * math.sqrt(8) - 8) == 16
    # Usable t+2..t+4: mean 10 + 12 + 12, variance 12; tomorrow 5 + 3 - 10 leaves nothing.
    assert p.shelf_life_cap == math.floor(34 + z * math.sqrt(12)) == 38
    assert (p.packs, p.quantity, p.reason) == (3, 18, "rounded_up")
    assert (p.location_id, p.material_id) == ("S1", "M1")


def test_a_later_delivery_in_the_usable_days_tightens_the_cap_below_the_minimum() -> None:
    z = norm.ppf(0.9)
    p = one_item(
        on_hand=5,
        transit=[3, 0, 0, 30],  # 30 arrive on t+4, still in the new order's usable days
        mean=[10, 10, 12, 12, 12, 12],
        sigma=[2, 2, 2, 2, 2, 2],
        lead=2,
        review=1,
        pack=6,
        min_packs=2,
        shelf=3,
    ).explain(0, 0)
    assert p.shelf_life_cap == math.floor(34 + z * math.sqrt(12) - 30) == 8
    # Need 16 > cap 8: one pack fits, below the minimum of 2, and 2 packs would pass the cap.
    assert (p.packs, p.quantity, p.reason) == (0, 0, "dropped_below_min_order")


def test_stock_left_at_arrival_counts_against_the_cap() -> None:
    # Lead 3, review 2: protection t+1..t+4 needs 40, on hand 35 -> need 5. At arrival on t+3,
    # 35 - 10 - 10 = 15 are left for the one usable day (shelf 1) of 10: anything ordered expires.
    p = one_item(
        on_hand=35,
        transit=[],
        mean=[10] * 6,
        sigma=[0] * 6,
        lead=3,
        review=2,
        pack=4,
        min_packs=0,
        shelf=1,
    ).explain(0, 0)
    assert (p.raw_need, p.shelf_life_cap) == (5, 0)
    assert (p.quantity, p.reason) == (0, "capped_by_shelf_life")


@pytest.mark.parametrize(
    ("min_packs", "shelf", "packs", "reason"),
    [
        (0, 5, 1, "rounded_up"),  # need 2 -> one pack of 6; cap 5 * 3 - 1 = 14
        (2, 5, 2, "raised_to_min_order"),  # 2 packs = 12 <= 14
        (3, 5, 0, "dropped_below_min_order"),  # 3 packs = 18 > 14
        (0, 1, 0, "capped_by_shelf_life"),  # one usable day: cap 3 - 1 = 2 < one pack
    ],
)
def test_rounding_and_minimum_order(min_packs: int, shelf: int, packs: int, reason: str) -> None:
    # On hand 1, demand 3 a day, lead 1, review 1: need 3 - 1 = 2.
    p = one_item(
        on_hand=1,
        transit=[],
        mean=[3] * 6,
        sigma=[0] * 6,
        lead=1,
        review=1,
        pack=6,
        min_packs=min_packs,
        shelf=shelf,
    ).explain(0, 0)
    assert p.raw_need == 2
    assert (p.packs, p.quantity, p.reason) == (packs, packs * 6, reason)


def test_rounding_down_when_rounding_up_passes_the_cap() -> None:
    # Need 10 (2 days of 5), cap = 3 usable days of 5 = 15 - 0: two packs of 8 = 16 > 15 -> one.
    p = one_item(
        on_hand=0,
        transit=[],
        mean=[5] * 4,
        sigma=[0] * 4,
        lead=1,
        review=2,
        pack=8,
        min_packs=0,
        shelf=3,
    ).explain(0, 0)
    assert (p.raw_need, p.shelf_life_cap, p.packs, p.reason) == (
        10,
        15,
        1,
        "rounded_down_for_shelf_life",
    )


def test_shelf_life_past_the_horizon_uses_the_last_week_per_day() -> None:
    # Usable days t+1..t+10 with a 7-day horizon: 7 * 2 + 3 more days at the last week's 2 a day.
    p = one_item(
        on_hand=0,
        transit=[],
        mean=[2] * 7,
        sigma=[0] * 7,
        lead=1,
        review=1,
        pack=1,
        min_packs=0,
        shelf=10,
    ).explain(0, 0)
    assert p.shelf_life_cap == 20


def test_lead_per_location_equals_lead_per_item() -> None:
    rng = np.random.default_rng(3)
    stock = StockPosition(on_hand=rng.integers(0, 40, (2, 3)), in_transit=np.zeros((2, 3, 2)))
    forecast = DemandForecast(mean=rng.uniform(0, 10, (2, 3, 9)), sigma=np.ones((2, 3, 9)))
    terms = OrderTerms([1, 3], [1, 2, 1], [6, 1, 12], [0, 2, 1], [2, 30, 5])
    by_item = replace(terms, lead_days=np.array([[1, 1, 1], [3, 3, 3]]))
    a = propose(stock, forecast, terms, service_level=0.95)
    b = propose(stock, forecast, by_item, service_level=0.95)
    assert np.array_equal(a.quantity, b.quantity)
    assert [e.material_id for e in a.orders()] == [f"#{m}" for _, m in np.argwhere(a.packs > 0)]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    s, m, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 4))
    lead = draw(arrays(np.int64, (s, m), elements=st.integers(1, 4)))
    review = draw(arrays(np.int64, (m,), elements=st.integers(1, 4)))
    h = draw(st.integers(int((lead + review).max()) - 1, 14))
    return {
        "on_hand": draw(arrays(np.int64, (s, m), elements=st.integers(0, 200))),
        "in_transit": draw(arrays(np.int64, (s, m, k), elements=st.integers(0, 60))),
        "mean": draw(arrays(np.float64, (s, m, h), elements=st.floats(0, 40))),
        "sigma": draw(arrays(np.float64, (s, m, h), elements=st.floats(0, 15))),
        "lead": lead,
        "review": review,
        "pack": draw(arrays(np.int64, (m,), elements=st.integers(1, 24))),
        "min_packs": draw(arrays(np.int64, (m,), elements=st.integers(0, 4))),
        "shelf": draw(arrays(np.int64, (m,), elements=st.integers(1, 20))),
        "service_level": draw(st.floats(0.51, 0.999)),
    }


def reference_cap(c: dict[str, Any], z: float, s: int, m: int) -> float:
    """The documented cap for one item, computed day by day."""
    mean, var, transit = c["mean"][s, m], c["sigma"][s, m] ** 2, c["in_transit"][s, m]
    lead, shelf, h = int(c["lead"][s, m]), int(c["shelf"][m]), len(mean)
    tail = min(7, h)

    def day(values: np.ndarray, d: int) -> float:
        return float(values[d]) if d < h else float(values[h - tail :].mean())

    left = float(c["on_hand"][s, m])
    for d in range(lead - 1):
        left = max(0.0, left + (transit[d] if d < len(transit) else 0) - mean[d])
    usable = range(lead - 1, lead - 1 + shelf)
    later = sum(int(transit[d]) for d in usable if d < len(transit))
    quantile = sum(day(mean, d) for d in usable) + z * math.sqrt(sum(day(var, d) for d in usable))
    return max(0.0, quantile - left - later)


@settings(max_examples=60, deadline=None)
@given(cases())
def test_every_proposal_respects_every_constraint(c: dict[str, Any]) -> None:
    p = propose(
        StockPosition(c["on_hand"], c["in_transit"]),
        DemandForecast(c["mean"], c["sigma"]),
        OrderTerms(c["lead"], c["review"], c["pack"], c["min_packs"], c["shelf"]),
        service_level=c["service_level"],
    )
    z = norm.ppf(c["service_level"])
    pack, min_packs = c["pack"][None, :], c["min_packs"][None, :]
    assert (p.packs >= 0).all()
    assert np.array_equal(p.quantity, p.packs * pack)
    assert ((p.packs == 0) | (p.packs >= min_packs)).all()
    assert (p.quantity <= p.shelf_life_cap).all()
    assert np.array_equal(p.position, p.on_hand + p.in_transit)
    assert np.array_equal(p.raw_need, np.maximum(0, np.ceil(p.order_up_to - p.position)))
    covered = p.position >= p.order_up_to
    assert (p.quantity[covered] == 0).all()
    for s, m in np.ndindex(p.packs.shape):
        days = int(c["lead"][s, m] + c["review"][m] - 1)
        e = p.explain(s, m)
        assert e.in_transit == int(c["in_transit"][s, m, :days].sum())
        assert e.forecast == pytest.approx(c["mean"][s, m, :days].sum())
        variance = float((c["sigma"][s, m, :days] ** 2).sum())
        assert e.safety_stock == pytest.approx(z * math.sqrt(variance), abs=1e-9)
        assert abs(e.shelf_life_cap - math.floor(reference_cap(c, z, s, m))) <= 1
        packs_up = -(-e.raw_need // int(pack[0, m]))
        if e.raw_need == 0:
            assert e.reason == "covered"
        elif max(packs_up, int(min_packs[0, m])) * int(pack[0, m]) <= e.shelf_life_cap:
            assert e.quantity >= e.raw_need  # when the cap allows, the need is covered
        else:
            assert e.reason in {
                "rounded_down_for_shelf_life",
                "capped_by_shelf_life",
                "dropped_below_min_order",
            }


def valid() -> dict[str, Any]:
    return {
        "on_hand": np.full((2, 3), 10),
        "in_transit": np.zeros((2, 3, 2), dtype=np.int64),
        "mean": np.full((2, 3, 8), 5.0),
        "sigma": np.ones((2, 3, 8)),
        "lead_days": np.array([1, 2]),
        "review_days": np.array([1, 1, 7]),
        "pack_size": np.array([6, 12, 1000]),
        "min_order_packs": np.array([0, 1, 1]),
        "shelf_life_days": np.array([3, 2, 365]),
    }


def run(inputs: dict[str, Any], service_level: float = 0.95) -> Proposal:
    return propose(
        StockPosition(inputs["on_hand"], inputs["in_transit"]),
        DemandForecast(inputs["mean"], inputs["sigma"]),
        OrderTerms(
            inputs["lead_days"],
            inputs["review_days"],
            inputs["pack_size"],
            inputs["min_order_packs"],
            inputs["shelf_life_days"],
        ),
        service_level=service_level,
        location_ids=["S01", "S02"],
        material_ids=["M001", "M002", "M003"],
    )


def with_value(name: str, at: tuple[int, ...], value: float) -> dict[str, Any]:
    inputs = valid()
    inputs[name] = inputs[name].astype(np.float64)
    inputs[name][at] = value
    return inputs


@pytest.mark.parametrize(
    ("inputs", "code", "field", "says"),
    [
        (
            with_value("pack_size", (2,), 0),
            "supply.missing_pack_size",
            "pack_size",
            "pack size missing for material M003",
        ),
        (
            with_value("pack_size", (1,), np.nan),
            "supply.missing_pack_size",
            "pack_size",
            "material M002",
        ),
        (
            with_value("on_hand", (1, 2), -4),
            "supply.invalid_on_hand",
            "on_hand",
            "location S02, material M003",
        ),
        (
            with_value("in_transit", (0, 1, 1), -1),
            "supply.invalid_in_transit",
            "in_transit",
            "location S01, material M002",
        ),
        (with_value("lead_days", (1,), 0), "supply.invalid_lead_days", "lead_days", "S02"),
        (
            with_value("lead_days", (0,), np.nan),
            "supply.missing_lead_days",
            "lead_days",
            "location S01",
        ),
        (
            with_value("shelf_life_days", (0,), 0),
            "supply.invalid_shelf_life_days",
            "shelf_life_days",
            "material M001",
        ),
        (
            with_value("mean", (1, 0, 3), -1),
            "supply.invalid_forecast",
            "forecast_mean",
            "location S02, material M001 on day +4",
        ),
        (
            {**valid(), "review_days": np.array([1, 1])},
            "supply.bad_shape",
            "review_days",
            "shape (3)",
        ),
        (
            {**valid(), "sigma": np.ones((2, 3, 7))},
            "supply.bad_shape",
            "forecast_sigma",
            "shape (2, 3, 8)",
        ),
        (
            {**valid(), "review_days": np.array([1, 8, 7])},
            "supply.forecast_horizon_too_short",
            "forecast_mean",
            "location S02, material M002 needs 9",
        ),
    ],
)
def test_bad_input_names_the_item(inputs: dict[str, Any], code: str, field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(inputs)
    assert caught.value.code == code
    assert caught.value.field == field
    assert says in caught.value.message


@pytest.mark.parametrize("level", [0.5, 0.9999, 1.2])
def test_service_level_out_of_range_is_refused(level: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(valid(), service_level=level)
    assert caught.value.code == "supply.invalid_service_level"


def test_ids_must_match_the_axes() -> None:
    inputs = valid()
    with pytest.raises(InvalidInput) as caught:
        propose(
            StockPosition(inputs["on_hand"], inputs["in_transit"]),
            DemandForecast(inputs["mean"], inputs["sigma"]),
            OrderTerms(
                inputs["lead_days"],
                inputs["review_days"],
                inputs["pack_size"],
                inputs["min_order_packs"],
                inputs["shelf_life_days"],
            ),
            service_level=0.9,
            material_ids=["M001"],
        )
    assert caught.value.field == "material_ids"
