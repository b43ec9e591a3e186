"""Network planning: hand-built cases with obvious answers, feasibility and "no worse than greedy"
on random instances, evaluate_network() as an independent check, bad input refused by field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.supply.geo import EARTH_RADIUS_KM
from newretail.supply.network import (
    NetworkPlan,
    NetworkProblem,
    assign_stores,
    evaluate_network,
    greedy_network,
    plan_network,
)

KM = math.degrees(1 / EARTH_RADIUS_KM)
"""Degrees of latitude in exactly one km along a meridian."""


def on_a_meridian(
    stores_km: list[float], sites_km: list[float], **overrides: Any
) -> NetworkProblem:
    """Stores and sites placed on one meridian at the given km; cost 5 per unit-km over 10 days."""
    args: dict[str, Any] = {
        "store_ids": [f"S{i}" for i in range(len(stores_km))],
        "store_lat": [30 + km * KM for km in stores_km],
        "store_lon": [120.0] * len(stores_km),
        "demand": [1.0] * len(stores_km),
        "site_ids": [f"W{i}" for i in range(len(sites_km))],
        "site_lat": [30 + km * KM for km in sites_km],
        "site_lon": [120.0] * len(sites_km),
        "capacity": [100.0] * len(sites_km),
        "existing": [True] * len(sites_km),
        "running_cost": [0] * len(sites_km),
        "opening_cost": [0] * len(sites_km),
        "cost_per_unit_km": 5,
        "horizon_days": 10,
    }
    return NetworkProblem.build(**(args | overrides))


def test_each_store_goes_to_its_nearest_dc_when_there_is_room() -> None:
    problem = on_a_meridian([10, 90], [0, 100], demand=[2, 3])
    plan = assign_stores(problem, mip_rel_gap=0)
    assert plan.assignment == ("W0", "W1")
    # 10 days x 2 units x 10 km x 5, and 10 days x 3 units x 10 km x 5.
    assert plan.costs.transport == 1000 + 1500
    assert plan.load == (2.0, 3.0)


def test_capacity_sends_the_cheaper_store_further() -> None:
    # Both stores prefer W0, which holds only 2 units: S1 (1 unit) moving to W1 costs 80 km x 1,
    # S0 (2 units) moving would cost 90 km x 2.
    problem = on_a_meridian([10, 20], [0, 100], demand=[2, 1], capacity=[2.0, 100.0])
    plan = assign_stores(problem, mip_rel_gap=0)
    assert plan.assignment == ("W0", "W1")
    assert plan.costs.transport == 10 * 2 * 10 * 5 + 10 * 1 * 80 * 5
    assert plan.costs.overloaded == ()


def test_a_candidate_next_to_the_stores_replaces_a_far_dc() -> None:
    problem = on_a_meridian(
        [95, 105],
        [0, 100],
        existing=[True, False],
        running_cost=[100, 100],
        opening_cost=[0, 2000],
        closing_cost=[500, 0],
        current=["W0", "W0"],
    )
    # Today: transport 10 x (95 + 105) x 5 = 10,000 plus W0's running 1,000.
    # Keep W0 and open W1: 2,000 running + 2,000 opening + 500 transport = 4,500.
    # Close W0 and open W1: 1,000 running + 2,000 opening + 500 closing + 500 transport = 4,000.
    for plan in (plan_network(problem, mip_rel_gap=0), greedy_network(problem)):
        assert (plan.opened, plan.closed, plan.open_sites) == (("W1",), ("W0",), ("W1",))
        assert plan.assignment == ("W1", "W1")
        assert (plan.costs.running, plan.costs.opening, plan.costs.closing) == (1000, 2000, 500)
        assert plan.costs.total == 4000
        assert plan.current is not None
        assert plan.current.total == 11000
        assert plan.saving == 7000


@st.composite
def networks(draw: st.DrawFn) -> NetworkProblem:
    n_stores = draw(st.integers(3, 12))
    n_existing = draw(st.integers(1, 3))
    n_sites = n_existing + draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    demand = rng.uniform(0.2, 3.0, n_stores).round(2)
    # Existing DCs hold all demand with room to spare, so the greedy start never runs out of room;
    # some capacities are tight enough to bind.
    share = rng.dirichlet(np.ones(n_existing))
    roomy = demand.sum() + n_existing * demand.max()
    capacity = np.concatenate(
        [share * roomy * 1.2, rng.uniform(0.3, 1.0, n_sites - n_existing) * demand.sum()]
    )
    existing = np.arange(n_sites) < n_existing
    return NetworkProblem.build(
        store_ids=[f"S{i}" for i in range(n_stores)],
        store_lat=31 + rng.uniform(0, 1, n_stores),
        store_lon=121 + rng.uniform(0, 1, n_stores),
        demand=demand,
        site_ids=[f"W{i}" for i in range(n_sites)],
        site_lat=31 + rng.uniform(0, 1, n_sites),
        site_lon=121 + rng.uniform(0, 1, n_sites),
        capacity=capacity,
        existing=existing,
        running_cost=rng.integers(0, 20_000, n_sites),
        opening_cost=np.where(existing, 0, rng.integers(0, 500_000, n_sites)),
        closing_cost=np.where(existing, rng.integers(0, 200_000, n_sites), 0),
        cost_per_unit_km=draw(st.sampled_from([10, 100, 1000])),
        horizon_days=30,
        current=[f"W{i}" for i in rng.integers(0, n_existing, n_stores)],
    )


def assert_feasible(plan: NetworkPlan, problem: NetworkProblem) -> None:
    assert len(plan.assignment) == len(problem.store_ids)
    assert set(plan.assignment) <= set(plan.open_sites)
    load = dict.fromkeys(problem.site_ids, 0.0)
    for store, site in enumerate(plan.assignment):
        load[site] += problem.demand[store]
    for site, capacity in zip(problem.site_ids, problem.capacity, strict=True):
        assert load[site] <= capacity + 1e-9
    assert plan.load == pytest.approx(tuple(load.values()))
    assert (
        evaluate_network(problem, open_sites=plan.open_sites, assignment=plan.assignment)
        == plan.costs
    )


@settings(max_examples=40, deadline=None)
@given(networks())
def test_plans_are_feasible_and_the_optimum_no_worse_than_greedy(problem: NetworkProblem) -> None:
    best = plan_network(problem, mip_rel_gap=0)
    greedy = greedy_network(problem)
    pruned = plan_network(problem, nearest=2, mip_rel_gap=0)
    for plan in (best, greedy, pruned):
        assert_feasible(plan, problem)
        assert plan.current is not None
        assert plan.saving == plan.current.total - plan.costs.total
    assert best.costs.total <= pruned.costs.total <= greedy.costs.total
    kept = assign_stores(problem, mip_rel_gap=0)
    assert_feasible(kept, problem)
    assert set(kept.open_sites) == {
        s for s, e in zip(problem.site_ids, problem.existing, strict=True) if e
    }
    assert best.costs.total <= kept.costs.total


def test_evaluate_reports_an_overloaded_dc_and_refuses_a_closed_one() -> None:
    problem = on_a_meridian([10, 20], [0, 100], demand=[2, 1], capacity=[2.0, 100.0])
    costs = evaluate_network(problem, open_sites=["W0", "W1"], assignment=["W0", "W0"])
    assert costs.overloaded == ("W0",)
    for open_sites, assignment, field in (
        (["W0"], ["W0", "W1"], "assignment"),
        (["W0"], ["W0"], "assignment"),
        (["W9"], ["W0", "W0"], "open_sites"),
    ):
        with pytest.raises(InvalidInput) as caught:
            evaluate_network(problem, open_sites=open_sites, assignment=assignment)
        assert caught.value.field == field


def test_demand_beyond_every_capacity_is_infeasible() -> None:
    problem = on_a_meridian([10, 20], [0, 100], demand=[2, 1], capacity=[1.0, 1.5])
    with pytest.raises(InvalidInput) as caught:
        plan_network(problem)
    assert (caught.value.code, caught.value.field) == ("supply.infeasible", "sites.capacity")
    # With W1 alone open there is no greedy start either; the MIP itself finds no plan.
    with pytest.raises(InvalidInput) as caught:
        assign_stores(problem, open_sites=["W1"])
    assert (caught.value.code, caught.value.field) == ("supply.infeasible", "sites.capacity")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"demand": [2.0, -1.0]}, "stores.demand"),
        ({"demand": [2.0, float("nan")]}, "stores.demand"),
        ({"store_lat": [30.0, float("nan")]}, "stores.lat"),
        ({"site_lon": [120.0, 200.0]}, "sites.lon"),
        ({"capacity": [100.0]}, "sites.capacity"),
        ({"existing": [True]}, "sites.existing"),
        ({"running_cost": [0, -5]}, "sites.running_cost"),
        ({"current": ["W0", "W7"]}, "stores.current"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"store_ids": [], "store_lat": [], "store_lon": [], "demand": []}, "stores"),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        on_a_meridian([10, 20], [0, 100], **({"demand": [2, 1]} | overrides))
    assert caught.value.field == field
