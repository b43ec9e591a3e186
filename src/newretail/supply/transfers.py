"""Transfers (G6): move surplus stock to nearby shortages where it saves more than the trips cost.

Solved as a MIP with HiGHS; ``greedy_transfers`` is the obvious baseline and ``evaluate`` recomputes
a plan's cost from its moves alone.

Moves are whole packs, reported in base units. Only sealed packs travel between stores (an opened
carton of milk cannot), so only a surplus's whole packs can move and a shortage takes at most the
whole packs that fit in it. Whole packs also keep the MIP's flows totally unimodular once the lanes
are chosen, so they can be continuous; base-unit moves of at least one pack needed a binary per flow
and stalled at a 46% gap after a minute on a chain-sized instance.

A trip carries all materials at once: its cost, ``trip_cost`` plus ``cost_per_km`` per km rounded to
the minor unit, is paid once per lane used. Lost sales and waste are priced per pack (like
``pack_cost_minor`` in the materials table), so a base unit costs a pack's price over the pack size;
their totals are rounded once, half up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from newretail.errors import InvalidInput
from newretail.supply.checks import minor_units, quantities
from newretail.supply.geo import coordinates, distance_km
from newretail.supply.transfer_solve import (
    Lanes,
    candidate_lanes,
    greedy_packs,
    mip_packs,
    trip_costs,
)


@dataclass(frozen=True)
class TransferProblem:
    """Locations (stores and DCs) × materials with what each can spare and what each lacks.

    ``surplus[i, m]``: base units of material m at location i that will expire or sit unsold beyond
    need; ``shortage[i, m]``: base units of projected unmet demand. Costs are integer minor units:
    per pack short and per pack of surplus left unmoved (both per material), per trip and per km.
    """

    location_ids: tuple[str, ...]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    material_ids: tuple[str, ...]
    surplus: NDArray[np.int64]
    shortage: NDArray[np.int64]
    pack_size: NDArray[np.int64]
    lost_sale_cost: NDArray[np.int64]
    waste_cost: NDArray[np.int64]
    trip_cost: int
    cost_per_km: int
    max_km: float

    @classmethod
    def build(
        cls,
        *,
        location_ids: Sequence[str],
        lat: ArrayLike,
        lon: ArrayLike,
        material_ids: Sequence[str],
        surplus: ArrayLike,
        shortage: ArrayLike,
        pack_size: ArrayLike,
        lost_sale_cost: ArrayLike,
        waste_cost: ArrayLike,
        trip_cost: int,
        cost_per_km: int,
        max_km: float,
    ) -> TransferProblem:
        """Check and normalise the inputs; a bad one raises InvalidInput naming the field."""
        locs, mats = tuple(location_ids), tuple(material_ids)
        n, m = len(locs), len(mats)
        lat_a, lon_a = coordinates(lat, lon, field="locations")
        if lat_a.shape != (n,):
            raise InvalidInput(
                "supply.bad_shape",
                f"{n} locations but {lat_a.shape} coordinates",
                field="locations.lat",
            )
        if not np.isfinite(max_km) or max_km <= 0:
            raise InvalidInput(
                "supply.bad_value", "max_km must be a positive number", field="max_km"
            )
        return cls(
            location_ids=locs,
            lat=lat_a,
            lon=lon_a,
            material_ids=mats,
            surplus=quantities(surplus, (n, m), field="surplus"),
            shortage=quantities(shortage, (n, m), field="shortage"),
            pack_size=quantities(pack_size, (m,), field="pack_size", minimum=1),
            lost_sale_cost=quantities(lost_sale_cost, (m,), field="lost_sale_cost"),
            waste_cost=quantities(waste_cost, (m,), field="waste_cost"),
            trip_cost=int(quantities(trip_cost, (), field="trip_cost")),
            cost_per_km=int(quantities(cost_per_km, (), field="cost_per_km")),
            max_km=float(max_km),
        )


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    material: str
    quantity: int
    """Base units: a whole number of packs, at least one."""


@dataclass(frozen=True)
class TransferCosts:
    """What a plan costs, in minor units; ``total`` is the objective both planners minimise.

    ``total`` is rounded once from the exact sum, so it can differ from the sum of the rounded parts
    by a minor unit.
    """

    trips: int
    transport: int
    lost_sales: int
    waste: int
    total: int


@dataclass(frozen=True)
class TransferPlan:
    moves: tuple[Move, ...]
    costs: TransferCosts
    status: str
    """``optimal`` (within the MIP gap), ``time_limit`` (best found in time) or ``greedy``."""
    gap: float
    """Relative gap between the plan's cost and the best lower bound found; 0 for greedy."""


def plan_transfers(
    problem: TransferProblem, *, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4
) -> TransferPlan:
    """The cheapest plan, within ``mip_rel_gap`` of the total or the best found in about
    ``time_limit_s`` of solver time.

    x[flow] packs per (lane, material) and a binary y[lane] per lane in range: x <= cap·y, packs out
    of a location <= its surplus, packs into it <= its shortage; minimise the trips' cost plus the
    lost sales and waste left. The MIP starts from a plan at least as good as the greedy one, so it
    is never worse.
    """
    candidates = candidate_lanes(problem)
    greedy = greedy_packs(problem, candidates)
    if len(candidates.flow_cap) == 0:
        return _plan(problem, candidates, greedy, status="optimal", gap=0.0)
    packs, status, gap = mip_packs(
        problem, candidates, greedy, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap
    )
    return _plan(problem, candidates, packs, status=status, gap=gap)


def greedy_transfers(problem: TransferProblem) -> TransferPlan:
    """The obvious plan: largest shortages first, each filled from the nearest surpluses in range.

    A move is made only when what it saves is worth more than the trip it adds (a lane already
    travelled costs nothing more).
    """
    candidates = candidate_lanes(problem)
    return _plan(problem, candidates, greedy_packs(problem, candidates), status="greedy", gap=0.0)


def evaluate(plan: TransferPlan, problem: TransferProblem) -> TransferCosts:
    """Recompute a plan's costs from its moves alone; a move the problem does not allow raises.

    Checked: known ids, no move to itself, lanes within ``max_km``, whole packs, and per location ×
    material no more out than the surplus and no more in than the shortage.
    """
    where = {loc: i for i, loc in enumerate(problem.location_ids)}
    which = {mat: i for i, mat in enumerate(problem.material_ids)}
    out = np.zeros_like(problem.surplus)
    into = np.zeros_like(problem.shortage)
    travelled: set[tuple[int, int]] = set()
    for n, move in enumerate(plan.moves):
        if move.source not in where or move.target not in where or move.material not in which:
            raise InvalidInput("supply.bad_plan", f"move {n} names an unknown id", field="moves")
        i, j, m = where[move.source], where[move.target], which[move.material]
        if i == j or move.quantity <= 0 or move.quantity % problem.pack_size[m]:
            raise InvalidInput(
                "supply.bad_plan", f"move {n} is to itself or not whole packs", field="moves"
            )
        out[i, m] += move.quantity
        into[j, m] += move.quantity
        travelled.add((i, j))
    if (out > problem.surplus).any() or (into > problem.shortage).any():
        raise InvalidInput("supply.bad_plan", "moves exceed a surplus or a shortage", field="moves")
    pairs = np.array(sorted(travelled), dtype=np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    km = distance_km(problem.lat[a], problem.lon[a], problem.lat[b], problem.lon[b])
    if (km > problem.max_km).any():
        raise InvalidInput("supply.bad_plan", "a move is beyond max_km", field="moves")
    unmet = (problem.shortage - into).sum(axis=0)
    return _costs(
        problem,
        len(pairs),
        int(trip_costs(problem, km).sum()),
        unmet,
        (problem.surplus - out).sum(axis=0),
    )


def _costs(
    problem: TransferProblem,
    trips: int,
    transport: int,
    unmet: NDArray[np.int64],
    unmoved: NDArray[np.int64],
) -> TransferCosts:
    """Costs of the trips and, per material, of the base units still short and still surplus."""
    pack = problem.pack_size.tolist()
    lost = sum(map(Fraction, (unmet * problem.lost_sale_cost).tolist(), pack), Fraction(0))
    waste = sum(map(Fraction, (unmoved * problem.waste_cost).tolist(), pack), Fraction(0))
    total = minor_units(transport + lost + waste)
    return TransferCosts(trips, transport, minor_units(lost), minor_units(waste), total)


def _plan(
    problem: TransferProblem,
    candidates: Lanes,
    packs: NDArray[np.int64],
    *,
    status: str,
    gap: float,
) -> TransferPlan:
    moved = np.flatnonzero(packs > 0)
    lane, m = candidates.flow_lane[moved], candidates.flow_material[moved]
    units = packs[moved] * problem.pack_size[m]
    order = np.lexsort((m, candidates.target[lane], candidates.source[lane]))
    moves = tuple(
        Move(
            source=problem.location_ids[candidates.source[lane[o]]],
            target=problem.location_ids[candidates.target[lane[o]]],
            material=problem.material_ids[m[o]],
            quantity=int(units[o]),
        )
        for o in order
    )
    used = np.unique(lane)
    per_material = np.bincount(m, units, len(problem.material_ids)).astype(np.int64)
    costs = _costs(
        problem,
        len(used),
        int(candidates.cost[used].sum()),
        problem.shortage.sum(axis=0) - per_material,
        problem.surplus.sum(axis=0) - per_material,
    )
    return TransferPlan(moves=moves, costs=costs, status=status, gap=gap)
