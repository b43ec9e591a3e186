"""How transfers are chosen: candidate lanes, the greedy fill over them, and the MIP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from newretail.supply import milp
from newretail.supply.geo import distance_matrix_km

if TYPE_CHECKING:
    from newretail.supply.transfers import TransferProblem


@dataclass(frozen=True)
class Lanes:
    """Directed lanes source → target; each flow is one (lane, material) that could move packs."""

    source: NDArray[np.int64]
    target: NDArray[np.int64]
    km: NDArray[np.float64]
    cost: NDArray[np.int64]
    flow_lane: NDArray[np.int64]
    flow_material: NDArray[np.int64]
    flow_cap: NDArray[np.int64]
    """Whole packs the flow could carry: the fewer of the source's and the target's."""


def trip_costs(problem: TransferProblem, km: NDArray[np.float64]) -> NDArray[np.int64]:
    """A trip's cost in minor units: the fixed part plus the per-km part rounded to a minor unit."""
    return problem.trip_cost + np.rint(problem.cost_per_km * km).astype(np.int64)


def pack_value(problem: TransferProblem) -> NDArray[np.int64]:
    """What moving one pack saves, per material: a pack less short and a pack less wasted."""
    return problem.lost_sale_cost + problem.waste_cost


def candidate_lanes(problem: TransferProblem) -> Lanes:
    """Lanes within ``max_km`` that could pay for their trip, with the flows each could carry."""
    km = distance_matrix_km(problem.lat, problem.lon, problem.lat, problem.lon)
    near = km <= problem.max_km
    np.fill_diagonal(near, False)
    src, dst = np.nonzero(near)
    packs_out = problem.surplus // problem.pack_size
    packs_in = problem.shortage // problem.pack_size
    cap = np.minimum(packs_out[src], packs_in[dst])
    cost = trip_costs(problem, km[src, dst])
    # A lane on which moving everything it could saves no more than one trip never pays: dropping it
    # loses nothing and keeps the model small.
    keep = np.flatnonzero(cap @ pack_value(problem) > cost)
    lane, material = np.nonzero(cap[keep])
    return Lanes(
        source=src[keep],
        target=dst[keep],
        km=km[src[keep], dst[keep]],
        cost=cost[keep],
        flow_lane=lane.astype(np.int64),
        flow_material=material.astype(np.int64),
        flow_cap=cap[keep][lane, material],
    )


def greedy_packs(problem: TransferProblem, lanes: Lanes) -> NDArray[np.int64]:
    """Packs per flow: largest shortages first, each from its nearest sources, if the move pays.

    A move pays when the packs it moves are worth more than the trip it adds (a lane already
    travelled adds nothing). Such a move never lies on a dropped lane, so the greedy plan over all
    lanes in range is the greedy plan over ``lanes``.
    """
    spare = problem.surplus // problem.pack_size
    short = problem.shortage // problem.pack_size
    used = np.zeros(len(lanes.cost), dtype=bool)
    packs = np.zeros(len(lanes.flow_cap), dtype=np.int64)
    worth = pack_value(problem)
    target = lanes.target[lanes.flow_lane]
    sources: dict[tuple[int, int], list[int]] = {}
    for f in np.lexsort((lanes.km[lanes.flow_lane], lanes.flow_material, target)).tolist():
        sources.setdefault((int(target[f]), int(lanes.flow_material[f])), []).append(f)
    for j, m in sorted(sources, key=lambda key: (-problem.shortage[key], key)):
        for f in sources[(j, m)]:
            lane, i = lanes.flow_lane[f], lanes.source[lanes.flow_lane[f]]
            q = min(spare[i, m], short[j, m])
            if q > 0 and q * worth[m] > (0 if used[lane] else lanes.cost[lane]):
                packs[f] = q
                spare[i, m] -= q
                short[j, m] -= q
                used[lane] = True
    return packs


def mip_packs(
    problem: TransferProblem,
    lanes: Lanes,
    greedy: NDArray[np.int64],
    *,
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[NDArray[np.int64], str, float]:
    """Packs per flow minimising trips plus lost sales and waste, the solver status and the gap.

    Columns: x[flow] packs, then a binary y[lane]; x <= cap·y, packs out of a location <= its
    surplus, packs into it <= its shortage. On chain-sized instances HiGHS spends its time on cuts
    at the root and its own heuristics find little, but the LP relaxation uses few lanes; so the MIP
    starts from the better of the greedy plan and the MIP over only the lanes the relaxation uses.
    Each of the relaxation and that smaller MIP gets at most a third of the time limit. The gap is
    HiGHS's, or the one to the relaxation's bound if that is smaller (when HiGHS runs out of time
    before its own root LP is solved).
    """
    k, n_lanes = len(lanes.flow_cap), len(lanes.cost)
    flow, m = np.arange(k), lanes.flow_material
    rows = milp.Rows(n_columns=k + n_lanes)
    rows.add(
        np.repeat(flow, 2),
        np.column_stack([flow, k + lanes.flow_lane]).ravel(),
        np.column_stack([np.ones(k), -lanes.flow_cap]).ravel(),
        lower=np.full(k, -np.inf),
        upper=np.zeros(k),
    )
    for end, limit in ((lanes.source, problem.surplus), (lanes.target, problem.shortage)):
        keys, row = np.unique(end[lanes.flow_lane] * limit.shape[1] + m, return_inverse=True)
        packs = (limit // problem.pack_size).ravel()[keys]
        rows.add(row, flow, np.ones(k), lower=np.full(len(keys), -np.inf), upper=packs)
    cost = np.concatenate([-pack_value(problem)[m], lanes.cost])
    # The cost of doing nothing: with it the relative gap is relative to the plan's whole cost.
    idle = float(
        (
            (
                problem.shortage.sum(0) * problem.lost_sale_cost
                + problem.surplus.sum(0) * problem.waste_cost
            )
            / problem.pack_size
        ).sum()
    )

    def run(
        lane_lower: NDArray[np.bool_],
        lane_upper: NDArray[np.bool_],
        lane_type: int,
        start: NDArray[np.int64] | None,
        seconds: float,
        lp_solver: str = "choose",
    ) -> milp.Solution:
        return rows.solve(
            cost=cost,
            offset=idle,
            lower=np.concatenate([np.zeros(k), lane_lower]),
            upper=np.concatenate([lanes.flow_cap, lane_upper]),
            integrality=np.concatenate([np.zeros(k, np.int64), np.full(n_lanes, lane_type)]),
            start=None if start is None else np.concatenate([start, used(lanes, start)]),
            time_limit_s=seconds,
            mip_rel_gap=mip_rel_gap,
            infeasible_field="shortage",
            lp_solver=lp_solver,
        )

    closed, every = np.zeros(n_lanes, dtype=bool), np.ones(n_lanes, dtype=bool)
    start, spent, bound = greedy, 0.0, -np.inf
    try:
        relaxed = run(closed, every, milp.CONTINUOUS, None, time_limit_s / 3, "ipm")
        if relaxed.status == "optimal":
            bound = float(cost @ relaxed.x) + idle
        within = run(closed, relaxed.x[k:] > 1e-9, milp.INTEGER, None, time_limit_s / 3)
        spent = relaxed.seconds + within.seconds
        candidate = _integral(within.x[:k])
        if _objective(problem, lanes, candidate) < _objective(problem, lanes, greedy):
            start = candidate
    except milp.NoSolution:
        spent = 2 * time_limit_s / 3
    solution = run(closed, every, milp.INTEGER, start, time_limit_s - spent)
    found = _integral(solution.x[:k])
    # Compared as the plan pays, for lanes that carry packs only: HiGHS may leave a lane's y at 1
    # with no flow on it, and its incumbent is then costlier than the start by that measure.
    if _objective(problem, lanes, found) > _objective(problem, lanes, start):
        found = start
    total = _objective(problem, lanes, found) + idle
    gap = min(solution.gap, (total - bound) / max(abs(total), 1.0))
    return found, solution.status, max(gap, 0.0)


def used(lanes: Lanes, packs: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Lanes that carry some packs."""
    return np.bincount(lanes.flow_lane, packs, len(lanes.cost)) > 0


def _integral(x: NDArray[np.float64]) -> NDArray[np.int64]:
    # Flows are integral at the solver's vertices once the lanes are fixed; flooring only strips
    # float noise and keeps every (<=) constraint met.
    return np.floor(x + 1e-6).astype(np.int64)


def _objective(problem: TransferProblem, lanes: Lanes, packs: NDArray[np.int64]) -> int:
    """Trips paid minus the value of the packs moved (what the MIP minimises, less a constant)."""
    value = pack_value(problem)[lanes.flow_material]
    return int(lanes.cost[used(lanes, packs)].sum()) - int((value * packs).sum())
