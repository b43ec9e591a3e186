"""The policy replay: the stock ledger balances every day, lots expire and are used as dated, sales
never exceed stock, the figures are right, and forecast-driven ordering beats last week's usage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.supply.simulate import (
    ForecastDriven,
    OrderUpToLastWeek,
    Scenario,
    SimResult,
    StoreState,
    compare,
    simulate,
)

Ints = np.ndarray


def ints(*values: Any) -> Ints:
    return np.array(values, dtype=np.int64)


def tiny(
    demand: list[int], *, shelf: int = 5, lead: int = 1, on_hand: int = 0, **kw: Any
) -> Scenario:
    """One store, one product made of one unit of one material (pack 10, cost 30 a pack)."""
    base = Scenario(
        demand=np.array(demand, dtype=np.int64).reshape(-1, 1, 1),
        bom=ints([1]),
        pack_size=ints(10),
        shelf_life_days=ints(shelf),
        is_core=np.array([True]),
        pack_cost_minor=ints(30),
        lead_days=ints(lead),
        review_days=ints(1),
        min_order_packs=ints(0),
        initial_on_hand=ints([on_hand]),
        price_minor=ints(500),
        holding_bp_per_day=100,
    )
    return replace(base, **kw)


@dataclass(frozen=True)
class Fixed:
    """Orders ``packs`` (S, M) on the given days and nothing otherwise."""

    packs: Ints
    days: frozenset[int]

    def order(self, day: int, state: StoreState) -> Ints:
        return self.packs if day in self.days else np.zeros_like(self.packs)


@dataclass(frozen=True)
class Random:
    seed: int
    most: int

    def order(self, day: int, state: StoreState) -> Ints:
        rng = np.random.default_rng([self.seed, day])
        return rng.integers(0, self.most + 1, state.on_hand.shape) * (rng.random() < 0.6)


def test_an_order_arrives_after_the_lead_time_and_a_lot_expires_after_its_shelf_life() -> None:
    sc = tiny([0] * 8, shelf=3, lead=2, on_hand=7)
    r = simulate(sc, Fixed(ints([2]), frozenset({1})))
    # Ordered at the close of day 1, lead 2: on the shelf on the morning of day 3.
    assert r.daily.receipts[:, 0, 0].tolist() == [0, 0, 0, 20, 0, 0, 0, 0]
    # The opening stock is usable on days 0..2, the delivery of day 3 on days 3..5.
    assert r.daily.waste[:, 0, 0].tolist() == [0, 0, 7, 0, 0, 20, 0, 0]
    assert r.daily.closing[:, 0, 0].tolist() == [7, 7, 0, 20, 20, 0, 0, 0]


def test_sales_take_the_oldest_lot_first() -> None:
    # 10 on hand from day 0, 10 more on day 1; 12 sold on day 1 empty the old lot and take 2 new.
    sc = tiny([0, 12, 0, 0, 0], shelf=3, lead=1, on_hand=10)
    r = simulate(sc, Fixed(ints([1]), frozenset({0})))
    assert r.daily.consumption[:, 0, 0].tolist() == [0, 12, 0, 0, 0]
    assert r.daily.waste[:, 0, 0].tolist() == [0, 0, 0, 8, 0]  # the day-1 lot, at close of day 3


def test_a_short_material_limits_every_product_that_uses_it() -> None:
    # Product 0 uses materials 0 and 1, product 1 only material 0. Material 1 has 5 of 10 needed.
    sc = Scenario(
        demand=ints([[10, 4]]).reshape(1, 1, 2),
        bom=ints([1, 1], [2, 0]),
        pack_size=ints(1, 1),
        shelf_life_days=ints(5, 5),
        is_core=np.array([True, False]),
        pack_cost_minor=ints(100, 100),
        lead_days=ints(1),
        review_days=ints(1, 1),
        min_order_packs=ints(0, 0),
        initial_on_hand=ints([100, 5]),
        price_minor=ints(300, 700),
        holding_bp_per_day=0,
    )
    r = simulate(sc, Fixed(ints([0, 0]), frozenset()))
    assert r.daily.sold[0, 0].tolist() == [5, 4]
    assert r.daily.required[0, 0].tolist() == [18, 10]
    assert r.daily.stock_out[0, 0].tolist() == [False, True]
    assert r.summary.lost_units == 5
    assert r.summary.lost_sales_minor == 5 * 300
    assert r.summary.in_stock_rate_core == 1.0


def test_summary_figures() -> None:
    # Demand 4, 15, 0; 12 on hand usable on days 0..1: day 1 runs out (8 left, 15 wanted).
    # One pack ordered on day 1 arrives on day 2 and is still usable on day 3 (no waste yet).
    sc = tiny([4, 15, 0], shelf=2, on_hand=12)
    r = simulate(sc, Fixed(ints([1]), frozenset({1})))
    s, mat = r.summary, r.materials
    assert r.daily.closing[:, 0, 0].tolist() == [8, 0, 10]
    assert r.daily.waste[:, 0, 0].tolist() == [0, 0, 0]
    assert s.in_stock_rate_core == pytest.approx(2 / 3)
    assert (s.lost_units, s.lost_sales_minor) == (7, 7 * 500)
    assert mat.short_units.tolist() == [7]
    # Closing stock 8 + 0 + 10 units at 3 a unit = 54 value-days: 18 on average, 1% a day = 0.54.
    assert s.avg_inventory_value_minor == 18
    assert s.holding_cost_minor == 1
    assert s.orders_placed == 1


def test_waste_is_valued_at_pack_cost_per_unit_rounded_half_up() -> None:
    sc = tiny([0, 0], shelf=1, on_hand=5)  # 5 units at 3 each expire on day 0
    sc = replace(sc, pack_cost_minor=ints(31))  # 3.1 a unit: 15.5 -> 16
    r = simulate(sc, Fixed(ints([0]), frozenset()))
    assert r.materials.waste_units.tolist() == [5]
    assert r.summary.waste_cost_minor == 16
    assert r.summary.waste_rate == 1.0


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    days, stores = draw(st.integers(1, 9)), draw(st.integers(1, 3))
    products, materials = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bom = rng.integers(0, 4, (products, materials)) * (rng.random((products, materials)) < 0.7)
    return Scenario(
        demand=rng.poisson(rng.uniform(0, 6), (days, stores, products)),
        bom=bom,
        pack_size=rng.integers(1, 8, materials),
        shelf_life_days=rng.integers(1, 6, materials),
        is_core=rng.random(materials) < 0.5,
        pack_cost_minor=rng.integers(0, 1000, materials),
        lead_days=rng.integers(1, 4, stores),
        review_days=rng.integers(1, 3, materials),
        min_order_packs=rng.integers(0, 3, materials),
        initial_on_hand=rng.integers(0, 30, (stores, materials)),
        price_minor=rng.integers(0, 3000, products),
        holding_bp_per_day=int(rng.integers(0, 50)),
    )


def reference_waste(sc: Scenario, r: SimResult) -> Ints:
    """Dated lots per store × material, used oldest first, dropped after their shelf life."""
    d = r.daily
    waste = np.zeros_like(d.waste)
    for s, m in np.ndindex(sc.initial_on_hand.shape):
        lots = [[0, int(sc.initial_on_hand[s, m])]]  # [receipt day, quantity]
        for t in range(len(d.waste)):
            lots.append([t, int(d.receipts[t, s, m])])
            need = int(d.consumption[t, s, m])
            for lot in lots:
                taken = min(need, lot[1])
                lot[1], need = lot[1] - taken, need - taken
            assert need == 0, "consumed more than was on the shelf"
            waste[t, s, m] = sum(q for day, q in lots if day + sc.shelf_life_days[m] - 1 == t)
            lots = [lot for lot in lots if lot[0] + sc.shelf_life_days[m] - 1 > t]
            assert sum(q for _, q in lots) == d.closing[t, s, m]
    return waste


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.sampled_from(["random", "last_week"]))
def test_the_ledger_balances_and_only_expired_lots_are_wasted(sc: Scenario, kind: str) -> None:
    policy = Random(seed=7, most=6) if kind == "random" else OrderUpToLastWeek()
    r = simulate(sc, policy)
    d = r.daily
    assert np.array_equal(d.closing, d.opening + d.receipts - d.consumption - d.waste)
    assert np.array_equal(d.opening[1:], d.closing[:-1])
    assert np.array_equal(d.opening[0], sc.initial_on_hand)
    assert (d.closing >= 0).all() and (d.waste >= 0).all()
    # Nothing sold that was not there, nothing sold that was not wanted.
    assert (d.consumption <= d.opening + d.receipts).all()
    assert ((d.sold >= 0) & (d.sold <= sc.demand)).all()
    assert np.array_equal(np.einsum("dsp,pm->dsm", d.sold, sc.bom), d.consumption)
    # A product none of whose materials ran out sells its whole demand.
    short_products = np.einsum("dsm,pm->dsp", d.stock_out.astype(int), (sc.bom > 0).astype(int))
    assert np.array_equal(d.sold[short_products == 0], sc.demand[short_products == 0])
    assert np.array_equal(reference_waste(sc, r), d.waste)
    # Every order arrives after its store's lead time, unless that is past the last day.
    expected = np.zeros_like(d.receipts)
    for t, s in np.ndindex(d.orders.shape[:2]):
        if t + sc.lead_days[s] < len(expected):
            expected[t + sc.lead_days[s], s] += d.orders[t, s] * sc.pack_size
    assert np.array_equal(d.receipts, expected)


def test_last_week_policy_orders_up_to_seven_days_of_use() -> None:
    terms = tiny([0]).terms
    state = StoreState(
        day=2,
        on_hand=ints([30]),
        in_transit=ints([[15, 5]]),
        consumption=ints(10, 20, 31).reshape(3, 1, 1),
        terms=replace(terms, min_order_packs=ints(5)),
    )
    # Three days used 61: a week is ceil(61 * 7 / 3) = 143; position 50; 93 -> 10 packs of 10.
    assert OrderUpToLastWeek().order(2, state).tolist() == [[10]]
    # Level ceil(9 * 7 / 3) = 21, position 15: 6 short is one pack, raised to the minimum of 5.
    few = replace(
        state,
        on_hand=ints([10]),
        in_transit=ints([[5, 0]]),
        consumption=ints(0, 0, 9).reshape(3, 1, 1),
    )
    assert OrderUpToLastWeek().order(2, few).tolist() == [[5]]


WEEK = np.array([0.8, 0.85, 0.9, 1.0, 1.1, 1.5, 1.35])  # weekday demand multipliers
PRODUCTS = np.array([60.0, 40.0, 15.0, 8.0])  # latte, americano, croissant, sandwich a day
# Materials: beans (g), milk (ml), cups, croissants, sandwiches.
BOM = ints([18, 200, 1, 0, 0], [18, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1])
SHELF = ints(180, 8, 365, 3, 2)


def weekly_chain(seed: int, days: int = 35, stores: int = 4) -> tuple[Scenario, Any]:
    """Poisson demand with a weekly cycle, and a forecast provider that knows the true process."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.7, 1.3, stores)
    horizon = np.arange(days + 21)
    rate = size[None, :, None] * PRODUCTS * WEEK[horizon % 7][:, None, None]  # (D+21, S, P)
    mean, variance = rate @ BOM, rate @ BOM**2  # Poisson: variance = rate

    def forecasts(day: int) -> tuple[np.ndarray, np.ndarray]:
        ahead = slice(day + 1, day + 15)
        return np.moveaxis(mean[ahead], 0, 2), np.sqrt(np.moveaxis(variance[ahead], 0, 2))

    sc = Scenario(
        demand=rng.poisson(rate[:days]),
        bom=BOM,
        pack_size=ints(1000, 1000, 1000, 24, 12),
        shelf_life_days=SHELF,
        is_core=np.array([True, True, True, False, False]),
        pack_cost_minor=ints(9000, 1200, 30000, 9600, 12000),
        lead_days=rng.integers(1, 3, stores),
        review_days=ints(3, 1, 7, 1, 1),
        min_order_packs=ints(1, 1, 1, 1, 1),
        initial_on_hand=np.ceil(mean[:3].sum(axis=0) * 1.2).astype(np.int64),
        price_minor=ints(2000, 1500, 1500, 2500),
        holding_bp_per_day=7,
    )
    return sc, forecasts


@pytest.mark.parametrize("seed", [0, 1])
def test_forecast_driven_keeps_in_stock_with_less_waste_than_last_week(seed: int) -> None:
    sc, forecasts = weekly_chain(seed)
    base, smart = compare(
        sc,
        {"last week": OrderUpToLastWeek(), "forecast": ForecastDriven(forecasts, 0.999)},
    )
    assert smart.in_stock_rate_core >= base.in_stock_rate_core
    assert smart.in_stock_rate_core >= 0.98
    assert smart.waste_vs_first is not None and smart.waste_vs_first <= -0.3
    short = SHELF <= 8
    waste = {
        name: simulate(sc, policy).materials.waste_units[short]
        for name, policy in (
            ("base", OrderUpToLastWeek()),
            ("smart", ForecastDriven(forecasts, 0.999)),
        )
    }
    assert (waste["smart"] <= waste["base"]).all() and waste["smart"].sum() < waste["base"].sum()


def test_forecast_driven_orders_only_on_review_days() -> None:
    sc, forecasts = weekly_chain(2, days=15, stores=2)
    r = simulate(sc, ForecastDriven(forecasts, 0.95))
    weekly = 2  # cups, reviewed every 7 days
    ordered_days = np.flatnonzero(r.daily.orders[:, :, weekly].sum(axis=1))
    assert set(ordered_days.tolist()) <= {0, 7, 14}


def test_bad_scenarios_and_bad_orders_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        simulate(tiny([1, -1]), OrderUpToLastWeek())
    assert caught.value.field == "demand"
    with pytest.raises(InvalidInput) as caught:
        simulate(tiny([1], pack_size=ints(0)), OrderUpToLastWeek())
    assert caught.value.field == "pack_size"
    with pytest.raises(InvalidInput) as caught:
        simulate(tiny([1], lead_days=ints(1, 2)), OrderUpToLastWeek())
    assert caught.value.field == "lead_days"
    with pytest.raises(InvalidInput) as caught:
        simulate(tiny([1, 1]), Fixed(ints([-1]), frozenset({0})))
    assert caught.value.code == "supply.invalid_order"
    with pytest.raises(InvalidInput):
        compare(tiny([1]), {})
