"""Transfers: hand-built cases with obvious answers, feasibility and "no worse than greedy" on
random instances, evaluate() as an independent check, and bad input refused naming the field."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.supply.geo import EARTH_RADIUS_KM, distance_km
from newretail.supply.transfers import (
    Move,
    TransferPlan,
    TransferProblem,
    evaluate,
    greedy_transfers,
    plan_transfers,
)

KM = math.degrees(1 / EARTH_RADIUS_KM)
"""Degrees of latitude in exactly one km along a meridian."""


def two_stores(km: float, **overrides: Any) -> TransferProblem:
    """A has 30 units (3 packs of 10) to spare, B is 25 units short; B lies ``km`` north of A."""
    args: dict[str, Any] = {
        "location_ids": ["A", "B"],
        "lat": [30.0, 30.0 + km * KM],
        "lon": [120.0, 120.0],
        "material_ids": ["milk"],
        "surplus": [[30], [0]],
        "shortage": [[0], [25]],
        "pack_size": [10],
        "lost_sale_cost": [500],
        "waste_cost": [200],
        "trip_cost": 1000,
        "cost_per_km": 100,
        "max_km": 15.0,
    }
    return TransferProblem.build(**(args | overrides))


def test_nearby_surplus_moves_in_whole_packs() -> None:
    problem = two_stores(1.0)
    plan = plan_transfers(problem, mip_rel_gap=0)
    # 2 packs fit in the 25-unit shortage; they save 2 x (500 + 200) = 1400 > one trip of 1100.
    assert plan.moves == (Move("A", "B", "milk", 20),)
    # Trip 1000 + 100; 5 units still short at 50 each; 10 units wasted at 20 each.
    assert plan.costs.trips == 1
    assert (plan.costs.transport, plan.costs.lost_sales, plan.costs.waste) == (1100, 250, 200)
    assert plan.costs.total == 1550
    assert plan.status == "optimal"
    assert greedy_transfers(problem).moves == plan.moves


@pytest.mark.parametrize(
    ("km", "overrides"),
    [
        (500.0, {"max_km": 1000.0}),  # in range, but the trip costs 51,000
        (500.0, {"cost_per_km": 0}),  # free per km, but beyond max_km
        (1.0, {"trip_cost": 1400}),  # 1500 for the trip, the packs save 1400
    ],
)
def test_no_move_when_it_does_not_pay_or_is_too_far(km: float, overrides: dict[str, Any]) -> None:
    problem = two_stores(km, **overrides)
    for plan in (plan_transfers(problem), greedy_transfers(problem)):
        assert plan.moves == ()
        # Doing nothing: 25 units short at 50, 30 wasted at 20.
        assert plan.costs.total == 25 * 50 + 30 * 20


def test_one_trip_carrying_two_materials_beats_greedy() -> None:
    # J is short of 10 packs of milk and 5 of cups. A, 1 km away, has milk only; B, 2 km away on the
    # other side, has both. Greedy fills milk (the larger shortage) from the nearer A and then needs
    # B for cups: two trips. One trip from B carrying both is cheaper by A's trip.
    problem = TransferProblem.build(
        location_ids=["J", "A", "B"],
        lat=[30.0, 30.0 + KM, 30.0 - 2 * KM],
        lon=[120.0] * 3,
        material_ids=["milk", "cups"],
        surplus=[[0, 0], [100, 0], [100, 50]],
        shortage=[[100, 50], [0, 0], [0, 0]],
        pack_size=[10, 10],
        lost_sale_cost=[500, 500],
        waste_cost=[200, 200],
        trip_cost=1000,
        cost_per_km=100,
        max_km=5.0,
    )
    greedy = greedy_transfers(problem)
    assert {(m.source, m.material) for m in greedy.moves} == {("A", "milk"), ("B", "cups")}
    assert greedy.costs.total == 1100 + 1200 + 10 * 200
    best = plan_transfers(problem, mip_rel_gap=0)
    assert set(best.moves) == {Move("B", "J", "milk", 100), Move("B", "J", "cups", 50)}
    assert best.costs.total == 1200 + 10 * 200


@st.composite
def problems(draw: st.DrawFn) -> TransferProblem:
    n = draw(st.integers(3, 10))
    m = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pack = rng.choice([1, 4, 10], m)
    spread = draw(st.sampled_from([0.02, 0.05, 0.1]))  # degrees: a few km to ~15 km
    return TransferProblem.build(
        location_ids=[f"L{i}" for i in range(n)],
        lat=30 + rng.uniform(0, spread, n),
        lon=120 + rng.uniform(0, spread, n),
        material_ids=[f"M{i}" for i in range(m)],
        surplus=np.where(rng.random((n, m)) < 0.4, rng.integers(0, 60, (n, m)), 0),
        shortage=np.where(rng.random((n, m)) < 0.4, rng.integers(0, 60, (n, m)), 0),
        pack_size=pack,
        lost_sale_cost=rng.integers(0, 400, m) * pack,
        waste_cost=rng.integers(0, 200, m) * pack,
        trip_cost=draw(st.sampled_from([0, 500, 3000])),
        cost_per_km=draw(st.sampled_from([0, 100, 400])),
        max_km=draw(st.sampled_from([2.0, 5.0, 20.0])),
    )


def assert_feasible(plan: TransferPlan, problem: TransferProblem) -> None:
    where = {loc: i for i, loc in enumerate(problem.location_ids)}
    which = {mat: i for i, mat in enumerate(problem.material_ids)}
    out = np.zeros_like(problem.surplus)
    into = np.zeros_like(problem.shortage)
    for move in plan.moves:
        i, j, m = where[move.source], where[move.target], which[move.material]
        assert i != j
        assert move.quantity > 0
        assert move.quantity % problem.pack_size[m] == 0
        lat, lon = problem.lat, problem.lon
        assert float(distance_km(lat[i], lon[i], lat[j], lon[j])) <= problem.max_km
        out[i, m] += move.quantity
        into[j, m] += move.quantity
    assert (out <= problem.surplus).all()
    assert (into <= problem.shortage).all()


@settings(max_examples=40, deadline=None)
@given(problems())
def test_optimum_is_feasible_and_no_worse_than_greedy(problem: TransferProblem) -> None:
    best = plan_transfers(problem, mip_rel_gap=0)
    greedy = greedy_transfers(problem)
    for plan in (best, greedy):
        assert_feasible(plan, problem)
        assert evaluate(plan, problem) == plan.costs
    assert best.status == "optimal"
    assert best.costs.total <= greedy.costs.total
    nothing = evaluate(replace(best, moves=()), problem)
    assert greedy.costs.total <= nothing.total


@pytest.mark.parametrize(
    ("moves", "reason"),
    [
        ((Move("A", "B", "milk", 40),), "over A's surplus of 30"),
        ((Move("A", "B", "milk", 15),), "not whole packs"),
        ((Move("A", "A", "milk", 10),), "to itself"),
        ((Move("A", "C", "milk", 10),), "unknown location"),
        ((Move("A", "B", "milk", 10), Move("A", "B", "milk", 20)), "over B's shortage of 25"),
    ],
)
def test_evaluate_refuses_a_plan_the_problem_does_not_allow(
    moves: tuple[Move, ...], reason: str
) -> None:
    problem = two_stores(1.0)
    plan = replace(plan_transfers(problem), moves=moves)
    with pytest.raises(InvalidInput) as caught:
        evaluate(plan, problem)
    assert caught.value.field == "moves", reason


def test_evaluate_refuses_a_move_beyond_range() -> None:
    problem = two_stores(20.0)
    plan = replace(greedy_transfers(problem), moves=(Move("A", "B", "milk", 20),))
    with pytest.raises(InvalidInput, match="max_km"):
        evaluate(plan, problem)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"surplus": [[-1], [0]]}, "surplus"),
        ({"shortage": [[0], [2.5]]}, "shortage"),
        ({"shortage": [[0, 0], [25, 0]]}, "shortage"),
        ({"lat": [30.0, float("nan")]}, "locations.lat"),
        ({"lat": [30.0], "lon": [120.0]}, "locations.lat"),
        ({"pack_size": [0]}, "pack_size"),
        ({"lost_sale_cost": [-5]}, "lost_sale_cost"),
        ({"trip_cost": -1}, "trip_cost"),
        ({"max_km": 0.0}, "max_km"),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        two_stores(1.0, **overrides)
    assert caught.value.field == field
