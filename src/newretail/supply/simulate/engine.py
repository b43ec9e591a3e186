"""Replay true demand through an ordering policy, day by day, with store stock kept as dated lots.

Each day t (the shared timing convention): deliveries due on t arrive in the morning; demand is
served from the lots, oldest first; at the close the lots whose use-by day is t are wasted, then the
policy orders, and its packs arrive on the morning of t + the store's lead time.

Serving: required (S, M) = demand (S, P) @ bom. A material short of its requirement limits every
product using it to the same share, and a product sells floor(demand * available / required) units
for its scarcest material (exact integer arithmetic), so what sells never needs more of a material
than is available. Everything is vectorised over stores and materials; lots of all materials sit in
one ring (S, M, W) indexed by receipt day modulo W = min(longest shelf life, days).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from newretail.errors import InvalidInput
from newretail.supply.replenish import OrderTerms
from newretail.supply.simulate.policies import Ints, Policy, StoreState
from newretail.supply.simulate.result import Daily, SimResult, summarise


@dataclass(frozen=True)
class Scenario:
    """A chain to replay: D days, S stores, P products, M materials; quantities in base units.

    ``initial_on_hand`` is on the shelf at the opening of day 0 with its full shelf life (usable on
    days 0 .. shelf-1). Money is in minor units; holding costs ``holding_bp_per_day`` basis points of
    the closing stock's value per day.
    """

    demand: Ints  # (D, S, P) true demand in product units
    bom: Ints  # (P, M) base units per product unit
    pack_size: Ints  # (M,)
    shelf_life_days: Ints  # (M,)
    is_core: NDArray[np.bool_]  # (M,)
    pack_cost_minor: Ints  # (M,)
    lead_days: Ints  # (S,)
    review_days: Ints  # (M,)
    min_order_packs: Ints  # (M,)
    initial_on_hand: Ints  # (S, M)
    price_minor: Ints  # (P,)
    holding_bp_per_day: int

    @property
    def terms(self) -> OrderTerms:
        return OrderTerms(
            lead_days=self.lead_days,
            review_days=self.review_days,
            pack_size=self.pack_size,
            min_order_packs=self.min_order_packs,
            shelf_life_days=self.shelf_life_days,
        )


def simulate(scenario: Scenario, policy: Policy) -> SimResult:
    """Run ``policy`` over every day of ``scenario``; the daily ledger and its summary."""
    _check(scenario)
    sc = scenario
    n_days, n_stores, _ = sc.demand.shape
    n_mat = sc.bom.shape[1]
    ring = max(1, min(int(sc.shelf_life_days.max()), n_days))
    expiring = sc.shelf_life_days <= ring  # longer-lived lots outlast the replay
    lots = np.zeros((n_stores, n_mat, ring), dtype=np.int64)
    lots[:, :, 0] = sc.initial_on_hand
    reach = int(sc.lead_days.max())
    arrivals = np.zeros((n_days + reach, n_stores, n_mat), dtype=np.int64)
    daily = Daily.empty(n_days, n_stores, n_mat, sc.demand.shape[2])
    terms = _read_only_terms(sc)
    materials, stores = np.arange(n_mat), np.arange(n_stores)

    for t in range(n_days):
        daily.opening[t] = lots.sum(axis=2)
        received = arrivals[t]
        lots[:, :, t % ring] += received
        available = daily.opening[t] + received
        required = sc.demand[t] @ sc.bom
        sold = _sell(sc.demand[t], sc.bom, available, required)
        used = sold @ sc.bom
        span = min(t + 1, ring)  # slots of days before 0 are empty
        _take_oldest_first(lots, used, order=(t + 1 + np.arange(ring - span, ring)) % ring)
        slot = (t - sc.shelf_life_days + 1) % ring  # lots whose use-by day is t
        waste = np.where(expiring, lots[:, materials, slot], 0)
        lots[:, materials, slot] -= waste

        daily.receipts[t], daily.required[t], daily.consumption[t] = received, required, used
        daily.waste[t], daily.closing[t] = waste, lots.sum(axis=2)
        daily.sold[t] = sold
        state = StoreState(
            day=t,
            on_hand=_frozen(daily.closing[t]),
            in_transit=_frozen(np.moveaxis(arrivals[t + 1 : t + 1 + reach], 0, 2)),
            consumption=_frozen(daily.consumption[: t + 1]),
            terms=terms,
        )
        packs = _checked_order(policy.order(t, state), (n_stores, n_mat), t)
        daily.orders[t] = packs
        arrivals[t + sc.lead_days, stores, :] += packs * sc.pack_size
    return summarise(sc, daily)


def _sell(demand: Ints, bom: Ints, available: Ints, required: Ints) -> Ints:
    short = required > available
    cols = np.flatnonzero(short.any(axis=0))  # only materials short somewhere can limit sales
    if not len(cols):
        return demand.copy()
    avail, req = available[:, cols], np.maximum(required[:, cols], 1)
    limits = (bom[:, cols] > 0)[None, :, :] & short[:, None, cols]
    share = demand[:, :, None] * avail[:, None, :] // req[:, None, :]
    return np.asarray(np.where(limits, share, demand[:, :, None]).min(axis=2))


def _take_oldest_first(lots: Ints, amount: Ints, *, order: Ints) -> None:
    ordered = lots[:, :, order]
    before = np.cumsum(ordered, axis=2) - ordered
    taken = np.clip(amount[:, :, None] - before, 0, ordered)
    lots[:, :, order] = ordered - taken


def _frozen(array: Ints) -> Ints:
    view = array.view()
    view.flags.writeable = False
    return view


def _read_only_terms(sc: Scenario) -> OrderTerms:
    terms = sc.terms
    return OrderTerms(**{f.name: _frozen(getattr(terms, f.name)) for f in fields(terms)})


def _checked_order(packs: Ints, shape: tuple[int, int], day: int) -> Ints:
    array = np.asarray(packs)
    if array.shape != shape or array.dtype.kind not in "iu" or (array < 0).any():
        raise InvalidInput(
            "supply.invalid_order",
            f"the policy's order on day {day} is not whole packs >= 0 of shape {shape}",
            field="policy",
        )
    return array.astype(np.int64)


def _check(sc: Scenario) -> None:
    if sc.demand.ndim != 3:
        raise InvalidInput(
            "supply.bad_shape", "demand must be (days, stores, products)", field="demand"
        )
    n_days, n_stores, n_products = sc.demand.shape
    n_mat = sc.bom.shape[1] if sc.bom.ndim == 2 else -1
    # (field, array, expected shape, minimum)
    specs: list[tuple[str, NDArray[Any], tuple[int, ...], int]] = [
        ("demand", sc.demand, (n_days, n_stores, n_products), 0),
        ("bom", sc.bom, (n_products, n_mat), 0),
        ("pack_size", sc.pack_size, (n_mat,), 1),
        ("shelf_life_days", sc.shelf_life_days, (n_mat,), 1),
        ("is_core", sc.is_core, (n_mat,), 0),
        ("pack_cost_minor", sc.pack_cost_minor, (n_mat,), 0),
        ("lead_days", sc.lead_days, (n_stores,), 1),
        ("review_days", sc.review_days, (n_mat,), 1),
        ("min_order_packs", sc.min_order_packs, (n_mat,), 0),
        ("initial_on_hand", sc.initial_on_hand, (n_stores, n_mat), 0),
        ("price_minor", sc.price_minor, (n_products,), 0),
    ]
    for field, array, shape, minimum in specs:
        kinds = "b" if field == "is_core" else "iu"
        if array.shape != shape or array.dtype.kind not in kinds:
            raise InvalidInput(
                "supply.bad_shape",
                f"{field} must be {'booleans' if kinds == 'b' else 'integers'} of shape {shape}, "
                f"got {array.dtype} {array.shape}",
                field=field,
            )
        if kinds != "b" and (array < minimum).any():
            at = tuple(int(i) for i in np.argwhere(array < minimum)[0])
            raise InvalidInput(
                "supply.invalid_value", f"{field}{list(at)} is below {minimum}", field=field
            )
    if n_days == 0 or sc.holding_bp_per_day < 0:
        raise InvalidInput(
            "supply.invalid_value",
            "a scenario needs at least one day and a holding rate >= 0",
            field="demand" if n_days == 0 else "holding_bp_per_day",
        )
