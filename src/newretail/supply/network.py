"""Network planning (G5): which DC serves which store, and which DCs to keep, close or open.

Both are MIPs solved with HiGHS; ``greedy_network`` is the obvious baseline and ``evaluate_network``
recomputes a network's cost from its open sites and assignment alone.

Units: a store's ``demand`` and a site's ``capacity`` are in one unit per day (pallets, say).
Money is integer minor units over ``horizon_days``: running costs per day per open site, opening
costs once per candidate opened, closing costs once per existing DC closed, and transport at
``cost_per_unit_km`` per unit of demand per km (great-circle), rounded per store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from newretail.errors import InvalidInput
from newretail.supply.checks import amounts, quantities
from newretail.supply.geo import coordinates, distance_km, distance_matrix_km
from newretail.supply.network_solve import assign, greedy_sites, mip_sites


@dataclass(frozen=True)
class NetworkProblem:
    """Stores with their daily demand, and sites: existing DCs and candidate locations for new ones.

    ``current`` (optional) is the index of the site serving each store today; it must be existing.
    """

    store_ids: tuple[str, ...]
    store_lat: NDArray[np.float64]
    store_lon: NDArray[np.float64]
    demand: NDArray[np.float64]
    site_ids: tuple[str, ...]
    site_lat: NDArray[np.float64]
    site_lon: NDArray[np.float64]
    capacity: NDArray[np.float64]
    existing: NDArray[np.bool_]
    running_cost: NDArray[np.int64]
    opening_cost: NDArray[np.int64]
    closing_cost: NDArray[np.int64]
    cost_per_unit_km: int
    horizon_days: int
    current: NDArray[np.int64] | None

    @classmethod
    def build(
        cls,
        *,
        store_ids: Sequence[str],
        store_lat: ArrayLike,
        store_lon: ArrayLike,
        demand: ArrayLike,
        site_ids: Sequence[str],
        site_lat: ArrayLike,
        site_lon: ArrayLike,
        capacity: ArrayLike,
        existing: ArrayLike,
        running_cost: ArrayLike,
        opening_cost: ArrayLike,
        closing_cost: ArrayLike | None = None,
        cost_per_unit_km: int,
        horizon_days: int,
        current: Sequence[str] | None = None,
    ) -> NetworkProblem:
        """Check and normalise the inputs; a bad one raises InvalidInput naming the field."""
        stores, sites = tuple(store_ids), tuple(site_ids)
        s, w = len(stores), len(sites)
        if s == 0 or w == 0:
            raise InvalidInput(
                "supply.bad_value",
                "a network needs stores and sites",
                field="stores" if s == 0 else "sites",
            )
        store_lat_a, store_lon_a = coordinates(store_lat, store_lon, field="stores")
        site_lat_a, site_lon_a = coordinates(site_lat, site_lon, field="sites")
        for name, array, n in (("stores.lat", store_lat_a, s), ("sites.lat", site_lat_a, w)):
            if array.shape != (n,):
                raise InvalidInput(
                    "supply.bad_shape", f"{n} ids but {array.shape} coordinates", field=name
                )
        existing_a = np.asarray(existing, dtype=bool)
        if existing_a.shape != (w,):
            raise InvalidInput("supply.bad_shape", f"expected {w} flags", field="sites.existing")
        current_a = None
        if current is not None:
            index = {site: i for i, site in enumerate(sites)}
            unknown = [c for c in current if c not in index or not existing_a[index[c]]]
            if len(current) != s or unknown:
                raise InvalidInput(
                    "supply.bad_value",
                    "current names one existing site per store",
                    field="stores.current",
                )
            current_a = np.array([index[c] for c in current], dtype=np.int64)
        return cls(
            store_ids=stores,
            store_lat=store_lat_a,
            store_lon=store_lon_a,
            demand=amounts(demand, (s,), field="stores.demand"),
            site_ids=sites,
            site_lat=site_lat_a,
            site_lon=site_lon_a,
            capacity=amounts(capacity, (w,), field="sites.capacity"),
            existing=existing_a,
            running_cost=quantities(running_cost, (w,), field="sites.running_cost"),
            opening_cost=quantities(opening_cost, (w,), field="sites.opening_cost"),
            closing_cost=quantities(
                np.zeros(w) if closing_cost is None else closing_cost,
                (w,),
                field="sites.closing_cost",
            ),
            cost_per_unit_km=int(quantities(cost_per_unit_km, (), field="cost_per_unit_km")),
            horizon_days=int(quantities(horizon_days, (), field="horizon_days", minimum=1)),
            current=current_a,
        )


@dataclass(frozen=True)
class NetworkCosts:
    """A network's cost over the horizon in minor units, and the sites loaded past capacity."""

    running: int
    opening: int
    closing: int
    transport: int
    total: int
    overloaded: tuple[str, ...]


@dataclass(frozen=True)
class NetworkPlan:
    open_sites: tuple[str, ...]
    opened: tuple[str, ...]
    """Candidate sites the plan opens."""
    closed: tuple[str, ...]
    """Existing DCs the plan closes."""
    assignment: tuple[str, ...]
    """The site serving each store, in store order."""
    load: tuple[float, ...]
    """Demand assigned to each site, in site order."""
    costs: NetworkCosts
    current: NetworkCosts | None
    """Today's network (existing DCs, ``current`` assignment) under the same cost function."""
    saving: int | None
    """``current.total - costs.total``."""
    status: str
    """``optimal`` (within the MIP gap), ``time_limit`` (best found in time) or ``greedy``."""
    gap: float


def assign_stores(
    problem: NetworkProblem,
    *,
    open_sites: Sequence[str] | None = None,
    nearest: int | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> NetworkPlan:
    """Serve each store from exactly one of ``open_sites`` (default: the existing DCs) within the
    sites' capacities, at the least transport cost.

    ``nearest`` limits each store to its k nearest open sites (plus the greedy choice), a smaller
    model for large networks.
    """
    index = {site: i for i, site in enumerate(problem.site_ids)}
    chosen = problem.existing.copy()
    if open_sites is not None:
        if any(site not in index for site in open_sites):
            raise InvalidInput("supply.bad_value", "an open site is unknown", field="open_sites")
        chosen[:] = False
        chosen[[index[site] for site in open_sites]] = True
    transport = _transport(problem, _km(problem))
    served_by = assign(problem, np.argsort(transport, axis=1, kind="stable"), chosen)
    start = None if served_by is None else (chosen, served_by)
    is_open, served_by, solution = mip_sites(
        problem,
        transport,
        must_open=chosen,
        may_open=chosen,
        start=start,
        nearest=nearest,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    return _plan(problem, transport, is_open, served_by, status=solution.status, gap=solution.gap)


def plan_network(
    problem: NetworkProblem,
    *,
    nearest: int | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> NetworkPlan:
    """Which sites to keep, close or open, and which serves each store, at the least total cost.

    Binary open[w] and a[s, w]: each store to exactly one site, a[s, w] <= open[w], demand served by
    a site <= its capacity x open[w]; minimise running, opening and closing costs plus transport.
    The MIP starts from the greedy plan, so it is never worse. ``nearest`` limits each store to its
    k nearest sites (plus the greedy choice), a smaller model for large networks.
    """
    transport = _transport(problem, _km(problem))
    start = greedy_sites(problem, transport)
    every = np.ones_like(problem.existing)
    is_open, served_by, solution = mip_sites(
        problem,
        transport,
        must_open=~every,
        may_open=every,
        start=start,
        nearest=nearest,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    return _plan(problem, transport, is_open, served_by, status=solution.status, gap=solution.gap)


def greedy_network(problem: NetworkProblem) -> NetworkPlan:
    """The obvious plan: existing DCs, each store to its nearest site with room (largest first),
    then open or close one site at a time while that lowers the total cost."""
    transport = _transport(problem, _km(problem))
    is_open, served_by = greedy_sites(problem, transport)
    return _plan(problem, transport, is_open, served_by, status="greedy", gap=0.0)


def evaluate_network(
    problem: NetworkProblem, *, open_sites: Sequence[str], assignment: Sequence[str]
) -> NetworkCosts:
    """Recompute a network's costs from its open sites and the site serving each store.

    A store served by an unknown or closed site raises InvalidInput; sites over capacity are listed
    in ``overloaded`` (today's network may well have some).
    """
    index = {site: i for i, site in enumerate(problem.site_ids)}
    if any(site not in index for site in open_sites):
        raise InvalidInput("supply.bad_plan", "an open site is unknown", field="open_sites")
    is_open = np.zeros(len(problem.site_ids), dtype=bool)
    is_open[[index[site] for site in open_sites]] = True
    if len(assignment) != len(problem.store_ids) or any(
        site not in index or not is_open[index[site]] for site in assignment
    ):
        raise InvalidInput("supply.bad_plan", "each store needs one open site", field="assignment")
    served_by = np.array([index[site] for site in assignment], dtype=np.int64)
    km = distance_km(
        problem.store_lat,
        problem.store_lon,
        problem.site_lat[served_by],
        problem.site_lon[served_by],
    )
    load = np.bincount(served_by, problem.demand, len(problem.site_ids))
    overloaded = [
        site for site, over in zip(problem.site_ids, load > problem.capacity, strict=True) if over
    ]
    return _costs(problem, is_open, int(_transport(problem, km).sum()), overloaded)


def _costs(
    problem: NetworkProblem, is_open: NDArray[np.bool_], transport: int, overloaded: Sequence[str]
) -> NetworkCosts:
    running = int(problem.running_cost[is_open].sum()) * problem.horizon_days
    opening = int(problem.opening_cost[is_open & ~problem.existing].sum())
    closing = int(problem.closing_cost[~is_open & problem.existing].sum())
    total = running + opening + closing + transport
    return NetworkCosts(running, opening, closing, transport, total, tuple(overloaded))


def _transport(problem: NetworkProblem, km: NDArray[np.float64]) -> NDArray[np.int64]:
    """Transport cost over the horizon of serving each store over ``km`` (broadcasting)."""
    rate = problem.horizon_days * problem.cost_per_unit_km
    return np.rint(rate * problem.demand.reshape(-1, *([1] * (km.ndim - 1))) * km).astype(np.int64)


def _km(problem: NetworkProblem) -> NDArray[np.float64]:
    return distance_matrix_km(
        problem.store_lat, problem.store_lon, problem.site_lat, problem.site_lon
    )


def _plan(
    problem: NetworkProblem,
    transport: NDArray[np.int64],
    is_open: NDArray[np.bool_],
    served_by: NDArray[np.int64],
    *,
    status: str,
    gap: float,
) -> NetworkPlan:
    ids = np.array(problem.site_ids, dtype=object)
    load = np.bincount(served_by, problem.demand, len(ids))
    moved = int(transport[np.arange(len(served_by)), served_by].sum())
    costs = _costs(problem, is_open, moved, ids[load > problem.capacity].tolist())
    current = None
    if problem.current is not None:
        current = evaluate_network(
            problem,
            open_sites=ids[problem.existing].tolist(),
            assignment=ids[problem.current].tolist(),
        )
    return NetworkPlan(
        open_sites=tuple(ids[is_open].tolist()),
        opened=tuple(ids[is_open & ~problem.existing].tolist()),
        closed=tuple(ids[~is_open & problem.existing].tolist()),
        assignment=tuple(ids[served_by].tolist()),
        load=tuple(load.tolist()),
        costs=costs,
        current=current,
        saving=None if current is None else current.total - costs.total,
        status=status,
        gap=gap,
    )
