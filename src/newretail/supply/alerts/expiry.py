"""Stock about to expire unsold, per location × material, estimated from the lots received.

Stock is used oldest first, so what is on hand at the close of ``as_of`` is the newest receipts: the
lots still usable after the window (last usable day beyond ``as_of + window_days``) are all on hand,
and whatever is on hand beyond them comes from the lots whose last usable day falls inside the
window (``as_of + 1 .. as_of + window_days``; lots whose day was ``as_of`` or earlier were thrown
away at tonight's close), the latest-expiring of those first. Hence

    expiring = min(max(0, on_hand - received_later), received_soon)

(the cap leaves out stock with no lot on record expiring in the window, transferred in or received
before the records begin: the estimate never claims more than the lots that expire). Where a demand
forecast is given (stores), the window's days are played forward: each day's forecast takes the
earliest-expiring stock first, and what is left of a lot at the close of its last day is
``at_risk``, the stock expected to be thrown away. Without a forecast (DCs) all of the expiring
stock is at risk. An alert fires when ``at_risk`` is at least one base unit.

Severity: stock expected to expire unsold tomorrow makes it high, later medium. Figures:
``on_hand``, ``expiring_quantity``, ``received_later``, ``forecast_to_expiry`` (demand over the
window's days up to the last expiring lot's day; absent without a forecast), ``at_risk_quantity``,
``expires_on`` (the first day stock is expected to go), ``window_days``, ``cost_minor`` (the at-risk
quantity at the pack cost, rounded half up to a minor unit), ``currency``, ``unit``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from newretail.supply.alerts.alert import Alert, LocationType, Number
from newretail.supply.checks import amounts, minor_units, quantities

DEFAULT_WINDOW_DAYS = 2
# The forecast is fractional: less than this left of a lot is nothing left.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Lots:
    """Base units received per location × material by when their lots stop being usable."""

    later: ArrayLike  # (L, M): last usable day after as_of + window
    soon: ArrayLike  # (L, M, N): last usable day as_of + 1 + d, d < N = window days


@dataclass(frozen=True)
class MaterialCosts:
    """Per material (M,): pack size in base units, cost of a pack, its currency, the base unit."""

    pack_size: ArrayLike
    pack_cost_minor: ArrayLike
    currency: ArrayLike
    unit: ArrayLike


def expiring(
    *,
    as_of: dt.date,
    location_type: LocationType,
    location_ids: ArrayLike,
    material_ids: ArrayLike,
    on_hand: ArrayLike,
    lots: Lots,
    costs: MaterialCosts,
    demand: ArrayLike | None = None,
) -> list[Alert]:
    """Alerts for location × material cells with stock expected to expire unsold within the window;
    ``demand`` (L, M, N) is the forecast mean of days ``as_of + 1 + d``."""
    places, materials = np.asarray(location_ids).astype(str), np.asarray(material_ids).astype(str)
    shape = (len(places), len(materials))
    stock = quantities(on_hand, shape, field="on_hand")
    later = quantities(lots.later, shape, field="lots.later")
    window = np.asarray(lots.soon).shape[2] if np.asarray(lots.soon).ndim == 3 else 0
    soon = quantities(lots.soon, (*shape, window), field="lots.soon")
    held = _held(np.maximum(stock - later, 0), soon)
    wasted = held if demand is None else _wasted(held, amounts(demand, held.shape, field="demand"))
    at_risk = np.floor(wasted.sum(axis=2) + 0.5).astype(np.int64)
    pack = quantities(costs.pack_size, (len(materials),), field="pack_size", minimum=1)
    cost = quantities(costs.pack_cost_minor, (len(materials),), field="pack_cost_minor")
    currency, unit = np.asarray(costs.currency).astype(str), np.asarray(costs.unit).astype(str)
    found = []
    for place, m in zip(*np.nonzero(at_risk > 0), strict=True):
        risk = int(at_risk[place, m])
        goes = int(np.flatnonzero(wasted[place, m] > _TOLERANCE)[0])
        numbers: dict[str, Number] = {
            "on_hand": int(stock[place, m]),
            "expiring_quantity": int(held[place, m].sum()),
            "received_later": int(later[place, m]),
            "at_risk_quantity": risk,
            "expires_on": (as_of + dt.timedelta(days=goes + 1)).isoformat(),
            "window_days": window,
            "cost_minor": minor_units(Fraction(risk * int(cost[m]), int(pack[m]))),
            "currency": str(currency[m]),
            "unit": str(unit[m]),
        }
        if demand is not None:
            last = int(np.flatnonzero(held[place, m] > 0)[-1])
            numbers["forecast_to_expiry"] = round(
                float(np.asarray(demand)[place, m, : last + 1].sum()), 1
            )
        found.append(
            Alert(
                kind="expiring",
                severity="high" if goes == 0 else "medium",
                location_type=location_type,
                location_id=str(places[place]),
                material_id=str(materials[m]),
                business_date=as_of,
                numbers=numbers,
            )
        )
    return found


def _held(older: np.ndarray, soon: np.ndarray) -> np.ndarray:
    """What of each soon lot is on hand: ``older`` (L, M) base units, taken from the
    latest-expiring lots back, as the newest receipts are what remains."""
    held = np.zeros_like(soon)
    left = older.copy()
    for day in range(soon.shape[2] - 1, -1, -1):
        held[:, :, day] = np.minimum(left, soon[:, :, day])
        left -= held[:, :, day]
    return held


def _wasted(held: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """What of each held lot is left at the close of its last day, each day's demand taking the
    earliest-expiring stock first (fractional: the forecast is a mean)."""
    left = held.astype(np.float64)
    wasted = np.zeros_like(left)
    for day in range(left.shape[2]):
        need = demand[:, :, day].copy()
        for lot in range(day, left.shape[2]):
            take = np.minimum(left[:, :, lot], need)
            left[:, :, lot] -= take
            need -= take
        wasted[:, :, day] = left[:, :, day]
        left[:, :, day] = 0
    return wasted
