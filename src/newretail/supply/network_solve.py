"""How networks are chosen: the greedy baseline (nearest site with room, one site toggled at a time
while it pays) and the MIP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from newretail.errors import InvalidInput
from newretail.supply import milp

if TYPE_CHECKING:
    from newretail.supply.network import NetworkProblem


def site_costs(problem: NetworkProblem) -> NDArray[np.int64]:
    """Fixed cost over the horizon of having each site open, net of the closing cost it avoids."""
    fixed = problem.running_cost * problem.horizon_days
    return fixed + np.where(problem.existing, -problem.closing_cost, problem.opening_cost)


def assign(
    problem: NetworkProblem, preference: NDArray[np.int64], is_open: NDArray[np.bool_]
) -> NDArray[np.int64] | None:
    """Each store, largest demand first, to the first open site with room in its ``preference``
    (sites cheapest first); None if a store fits nowhere."""
    room = np.where(is_open, problem.capacity, -1.0)
    served_by = np.full(len(problem.store_ids), -1, dtype=np.int64)
    for s in np.argsort(-problem.demand, kind="stable").tolist():
        fits = np.flatnonzero(room[preference[s]] >= problem.demand[s])
        if len(fits) == 0:
            return None
        w = preference[s, fits[0]]
        served_by[s] = w
        room[w] -= problem.demand[s]
    return served_by


def total(
    problem: NetworkProblem,
    transport: NDArray[np.int64],
    is_open: NDArray[np.bool_],
    served_by: NDArray[np.int64],
) -> int:
    closing = int(problem.closing_cost[problem.existing].sum())
    fixed = int(site_costs(problem)[is_open].sum())
    return closing + fixed + int(transport[np.arange(len(served_by)), served_by].sum())


def greedy_sites(
    problem: NetworkProblem, transport: NDArray[np.int64]
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Open sites and the site serving each store, by the greedy rule.

    Start from the existing DCs (or every site, if they cannot hold the demand), assign greedily,
    then open or close whichever single site lowers the total most, until none does.
    """
    preference = np.argsort(transport, axis=1, kind="stable")
    is_open = problem.existing.copy()
    served_by = assign(problem, preference, is_open)
    if served_by is None:
        is_open = np.ones_like(is_open)
        served_by = assign(problem, preference, is_open)
    if served_by is None:
        raise InvalidInput(
            "supply.infeasible",
            "the sites together cannot hold the stores' demand",
            field="sites.capacity",
        )
    best = total(problem, transport, is_open, served_by)
    while True:
        step: tuple[int, NDArray[np.bool_], NDArray[np.int64]] | None = None
        for w in range(len(is_open)):
            trial = is_open.copy()
            trial[w] = not trial[w]
            trial_served = assign(problem, preference, trial)
            if trial_served is not None:
                cost = total(problem, transport, trial, trial_served)
                if cost < (best if step is None else step[0]):
                    step = (cost, trial, trial_served)
        if step is None:
            return is_open, served_by
        best, is_open, served_by = step


def mip_sites(
    problem: NetworkProblem,
    transport: NDArray[np.int64],
    *,
    must_open: NDArray[np.bool_],
    may_open: NDArray[np.bool_],
    start: tuple[NDArray[np.bool_], NDArray[np.int64]] | None,
    nearest: int | None,
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], milp.Solution]:
    """Open sites and the site serving each store, by MIP; ``start`` is a feasible (greedy) plan.

    Sites outside [must_open, may_open] are fixed; ``nearest`` keeps for each store only its k
    cheapest sites and the one ``start`` uses. Columns: a[s, w] per allowed pair, then open[w].
    """
    n_stores, n_sites = transport.shape
    allowed = np.broadcast_to(may_open, transport.shape).copy()
    if nearest is not None:
        rank = np.argsort(
            np.argsort(np.where(allowed, transport, np.iinfo(np.int64).max), axis=1), axis=1
        )
        allowed &= rank < nearest
    if start is not None:
        allowed[np.arange(n_stores), start[1]] = True
    store, site = np.nonzero(allowed)
    n = len(store)
    pair = np.arange(n)
    rows = milp.Rows(n_columns=n + n_sites)
    rows.add(store, pair, np.ones(n), lower=np.ones(n_stores), upper=np.ones(n_stores))
    rows.add(
        np.concatenate([site, np.arange(n_sites)]),
        np.concatenate([pair, n + np.arange(n_sites)]),
        np.concatenate([problem.demand[store], -problem.capacity]),
        lower=np.full(n_sites, -np.inf),
        upper=np.zeros(n_sites),
    )
    # a[s, w] <= open[w]: implied by the capacity row for integers, but it tightens the relaxation.
    rows.add(
        np.repeat(pair, 2),
        np.column_stack([pair, n + site]).ravel(),
        np.tile([1.0, -1.0], n),
        lower=np.full(n, -np.inf),
        upper=np.zeros(n),
    )
    initial = None
    if start is not None:
        chosen = np.zeros(allowed.shape, dtype=bool)
        chosen[np.arange(n_stores), start[1]] = True
        initial = np.concatenate([chosen[store, site], start[0]])
    solution = rows.solve(
        cost=np.concatenate([transport[store, site], site_costs(problem)]),
        offset=float(problem.closing_cost[problem.existing].sum()),
        lower=np.concatenate([np.zeros(n), must_open]),
        upper=np.concatenate([np.ones(n), may_open]),
        integrality=np.full(n + n_sites, milp.INTEGER),
        start=initial,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        infeasible_field="sites.capacity",
    )
    picked = solution.x[:n] > 0.5
    served_by = np.empty(n_stores, dtype=np.int64)
    served_by[store[picked]] = site[picked]
    return solution.x[n:] > 0.5, served_by, solution
