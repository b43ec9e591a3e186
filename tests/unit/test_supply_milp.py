"""The HiGHS front: an optimum, a start it improves on, and typed errors for no plan."""

from __future__ import annotations

import numpy as np
import pytest

from newretail.errors import InvalidInput
from newretail.supply import milp


def knapsack() -> milp.Rows:
    # One row: 3a + 4b + 5c <= 7.
    rows = milp.Rows(n_columns=3)
    rows.add(
        np.zeros(3, np.int64),
        np.arange(3),
        np.array([3.0, 4.0, 5.0]),
        lower=np.array([-np.inf]),
        upper=np.array([7.0]),
    )
    return rows


def solve(
    rows: milp.Rows, *, lower: float = 0.0, start: list[float] | None = None
) -> milp.Solution:
    return rows.solve(
        cost=np.array([-4.0, -5.0, -6.0]),
        offset=0.0,
        lower=np.full(3, lower),
        upper=np.ones(3),
        integrality=np.full(3, milp.INTEGER),
        start=None if start is None else np.array(start),
        time_limit_s=10.0,
        mip_rel_gap=0.0,
        infeasible_field="weights",
    )


def test_binary_knapsack_optimum_from_a_poor_start() -> None:
    # Items worth 4, 5, 6 weighing 3, 4, 5 in a sack of 7: a + b (worth 9) beats c alone (6).
    result = solve(knapsack(), start=[0.0, 0.0, 1.0])
    assert result.status == "optimal"
    np.testing.assert_allclose(result.x, [1, 1, 0], atol=1e-9)


def test_infeasible_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        solve(knapsack(), lower=1.0)
    assert (caught.value.code, caught.value.field) == ("supply.infeasible", "weights")


def test_no_plan_within_the_time_limit_is_a_typed_error() -> None:
    # A market-split instance: a feasible 0-1 point exists, but presolve cannot find it and a zero
    # time limit leaves no time to search.
    rng = np.random.default_rng(0)
    weights = rng.integers(1000, 100_000, (3, 40)).astype(np.float64)
    target = weights @ rng.integers(0, 2, 40)
    rows = milp.Rows(n_columns=40)
    rows.add(
        np.repeat(np.arange(3), 40),
        np.tile(np.arange(40), 3),
        weights.ravel(),
        lower=target,
        upper=target,
    )
    with pytest.raises(milp.NoSolution) as caught:
        rows.solve(
            cost=np.zeros(40),
            offset=0.0,
            lower=np.zeros(40),
            upper=np.ones(40),
            integrality=np.full(40, milp.INTEGER),
            start=None,
            time_limit_s=0.0,
            mip_rel_gap=0.0,
            infeasible_field="weights",
        )
    assert caught.value.code == "supply.no_solution"
