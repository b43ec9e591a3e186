"""Tomorrow's order per location × material (stores to DCs, DCs to suppliers): order-up-to with safety
stock, a shelf-life cap, whole packs and minimum orders, and the reasons for every quantity.

Timing (the shared convention): the order placed at the close of day t arrives on the morning of
t+L; the next review is at t+R. Forecast index h is day t+1+h; in-transit index k arrives on t+1+k.

- Protection period: days t+1 .. t+L+R-1 (what this order and the stock already there must cover
  until the next order arrives on t+R+L).
- Order-up-to level = forecast mean over the protection period + safety stock, where safety stock =
  z * sqrt(sum of the daily forecast variances over the period) and z = Φ⁻¹(service level). The
  forecast errors of different days are assumed independent; correlated errors would need more.
- Position = on hand + in transit arriving within the protection period (later arrivals cannot help
  in it). Raw need = max(0, ceil(order-up-to - position)) base units.
- Shelf-life cap: the order is usable on days t+L .. t+L+shelf-1. Cap = the demand quantile at the
  service level over those days (mean + z * sqrt(variance), as for the safety stock) minus the other
  stock that will be there to meet it: the on-hand and earlier arrivals left at the morning of t+L
  (projected day by day: stock = max(0, stock + arrivals - forecast mean)) and the arrivals on t+L
  and later within those days; floored to whole base units and at 0. The quantile rather than the
  mean because a cap at the mean would forbid any safety stock for goods whose shelf life is no
  longer than the review period: the planner's service level is the agreed trade-off between
  running out and throwing away, and nothing is ordered beyond what demand at that level would
  use before it expires. On-hand stock is assumed usable until sold (its age is not known here).
  Days of the usable window past the forecast horizon take the mean and variance of the horizon's
  last 7 days (one weekly cycle) per day.
- Rounding: whole packs, rounded up, unless the rounded-up quantity is above the cap, then rounded
  down to what the cap allows. A positive order below the minimum is raised to the minimum when the
  cap allows it and dropped to 0 otherwise. So the quantity never exceeds the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from newretail.errors import InvalidInput
from newretail.supply.replenish.inputs import (
    Checked,
    DemandForecast,
    Floats,
    Ints,
    OrderTerms,
    StockPosition,
    check,
)

REASONS = (
    "covered",  # the position reaches the order-up-to level: no order
    "rounded_up",  # raw need rounded up to whole packs
    "rounded_down_for_shelf_life",  # rounding up would pass the shelf-life cap
    "capped_by_shelf_life",  # the cap is below the raw need; ordered what the cap allows
    "raised_to_min_order",  # below the minimum order, raised to it
    "dropped_below_min_order",  # below the minimum order and the cap forbids the minimum
)
COVERED, ROUNDED_UP, ROUNDED_DOWN, CAPPED, RAISED, DROPPED = range(len(REASONS))
_TAIL_DAYS = 7


@dataclass(frozen=True)
class Explanation:
    """Why one location × material gets the quantity it gets (base units unless said otherwise)."""

    location_id: str
    material_id: str
    forecast: float  # mean demand over the protection period
    safety_stock: float
    order_up_to: float
    on_hand: int
    in_transit: int  # arriving within the protection period
    position: int
    raw_need: int
    shelf_life_cap: int
    packs: int
    quantity: int
    reason: str


@dataclass(frozen=True)
class Proposal:
    """Orders and their explanation, every array (S, M); ``reason`` indexes :data:`REASONS`."""

    forecast: Floats
    safety_stock: Floats
    order_up_to: Floats
    on_hand: Ints
    in_transit: Ints
    position: Ints
    raw_need: Ints
    shelf_life_cap: Ints
    packs: Ints
    quantity: Ints
    reason: NDArray[np.int8]
    location_ids: tuple[str, ...]
    material_ids: tuple[str, ...]

    def explain(self, location: int, material: int) -> Explanation:
        at = (location, material)
        return Explanation(
            location_id=self.location_ids[location],
            material_id=self.material_ids[material],
            forecast=float(self.forecast[at]),
            safety_stock=float(self.safety_stock[at]),
            order_up_to=float(self.order_up_to[at]),
            on_hand=int(self.on_hand[at]),
            in_transit=int(self.in_transit[at]),
            position=int(self.position[at]),
            raw_need=int(self.raw_need[at]),
            shelf_life_cap=int(self.shelf_life_cap[at]),
            packs=int(self.packs[at]),
            quantity=int(self.quantity[at]),
            reason=REASONS[int(self.reason[at])],
        )

    def orders(self) -> list[Explanation]:
        """The explanations of the items with a positive order, location by location."""
        return [self.explain(int(s), int(m)) for s, m in np.argwhere(self.packs > 0)]


def propose(
    stock: StockPosition,
    forecast: DemandForecast,
    terms: OrderTerms,
    *,
    service_level: float,
    location_ids: Sequence[str] | None = None,
    material_ids: Sequence[str] | None = None,
) -> Proposal:
    """Tomorrow's order for every location × material by the rules in the module docstring.

    >>> p = propose(
    ...     StockPosition(on_hand=[[5]], in_transit=[[[0]]]),
    ...     DemandForecast(mean=[[[10.0] * 4]], sigma=[[[0.0] * 4]]),
    ...     OrderTerms(lead_days=[1], review_days=[2], pack_size=[6], min_order_packs=[1],
    ...                shelf_life_days=[3]),
    ...     service_level=0.95,
    ... )
    >>> p.explain(0, 0).quantity, p.explain(0, 0).reason
    (18, 'rounded_up')
    """
    if not 0.5 < service_level < 0.9999:
        raise InvalidInput(
            "supply.invalid_service_level",
            f"service level {service_level} is not between 0.5 and 0.9999",
            field="service_level",
        )
    x = check(stock, forecast, terms, location_ids=location_ids, material_ids=material_ids)
    z = NormalDist().inv_cdf(service_level)
    protect = x.lead + x.review[None, :] - 1  # forecast days in the protection period
    _check_horizon(x, protect)

    mean_sum, var_sum = _cumulative(x.mean), _cumulative(x.sigma**2)
    zero = np.zeros_like(protect)
    demand = _window(mean_sum, zero, protect)
    safety = z * np.sqrt(_window(var_sum, zero, protect))
    up_to = demand + safety
    transit_sum = _cumulative(x.in_transit)
    depth = x.in_transit.shape[2]
    in_transit = _window(transit_sum, zero, np.minimum(protect, depth)).astype(np.int64)
    position = x.on_hand + in_transit
    raw_need = np.maximum(0, np.ceil(up_to - position)).astype(np.int64)

    cap = _shelf_life_cap(x, z, mean_sum, var_sum, transit_sum)
    packs, reason = _round(raw_need, cap, x.pack, x.min_packs)
    return Proposal(
        forecast=demand,
        safety_stock=safety,
        order_up_to=up_to,
        on_hand=x.on_hand,
        in_transit=in_transit,
        position=position,
        raw_need=raw_need,
        shelf_life_cap=cap,
        packs=packs,
        quantity=packs * x.pack,
        reason=reason,
        location_ids=x.location_ids,
        material_ids=x.material_ids,
    )


def _check_horizon(x: Checked, protect: Ints) -> None:
    short = protect > x.mean.shape[2]
    if short.any():
        s, m = (int(i) for i in np.argwhere(short)[0])
        raise InvalidInput(
            "supply.forecast_horizon_too_short",
            f"the forecast covers {x.mean.shape[2]} days but location {x.location_ids[s]}, "
            f"material {x.material_ids[m]} needs {int(protect[s, m])} (lead + review - 1)",
            field="forecast_mean",
        )


def _cumulative(values: NDArray[np.generic]) -> Floats:
    """Sums along the last axis with a leading 0, so a window [a, b) sums to c[b] - c[a]."""
    out = np.zeros((*values.shape[:2], values.shape[2] + 1))
    np.cumsum(values, axis=2, out=out[:, :, 1:])
    return out


def _window(cumulative: Floats, start: Ints, end: Ints) -> Floats:
    def at(index: Ints) -> Floats:
        picked = np.take_along_axis(cumulative, index[:, :, None], axis=2)
        return np.asarray(picked[:, :, 0])

    return at(end) - at(start)


def _shelf_life_cap(
    x: Checked, z: float, mean_sum: Floats, var_sum: Floats, transit_sum: Floats
) -> Ints:
    horizon, depth = x.mean.shape[2], x.in_transit.shape[2]
    start = x.lead - 1  # forecast index of the arrival day t+L
    end = start + x.shelf[None, :]  # exclusive: past the last usable day
    inside = np.minimum(end, horizon)
    beyond = end - inside
    tail = min(_TAIL_DAYS, horizon)
    tail_mean = (mean_sum[:, :, horizon] - mean_sum[:, :, horizon - tail]) / max(tail, 1)
    tail_var = (var_sum[:, :, horizon] - var_sum[:, :, horizon - tail]) / max(tail, 1)
    usable_mean = _window(mean_sum, start, inside) + beyond * tail_mean
    usable_var = _window(var_sum, start, inside) + beyond * tail_var

    left = x.on_hand.astype(np.float64)
    for h in range(int(x.lead.max()) - 1):
        arriving = x.in_transit[:, :, h] if h < depth else 0
        before = h < start
        left = np.where(before, np.maximum(0.0, left + arriving - x.mean[:, :, h]), left)
    later = _window(transit_sum, np.minimum(start, depth), np.minimum(end, depth))
    cap: Floats = np.floor(usable_mean + z * np.sqrt(usable_var) - left - later)
    return np.maximum(cap, 0.0).astype(np.int64)


def _round(raw_need: Ints, cap: Ints, pack: Ints, min_packs: Ints) -> tuple[Ints, NDArray[np.int8]]:
    up = -(-raw_need // pack)
    fits = up * pack <= cap
    packs = np.where(fits, up, cap // pack)
    reason = np.select(
        [raw_need == 0, fits, (raw_need <= cap) & (packs > 0)],
        [COVERED, ROUNDED_UP, ROUNDED_DOWN],
        CAPPED,
    )
    below = (packs > 0) & (packs < min_packs)
    allowed = min_packs * pack <= cap
    packs = np.where(below, np.where(allowed, min_packs, 0), packs)
    reason = np.where(below, np.where(allowed, RAISED, DROPPED), reason)
    return packs.astype(np.int64), reason.astype(np.int8)
