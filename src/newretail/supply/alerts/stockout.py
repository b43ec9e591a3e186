"""Projected stock-outs per store × material: stock that runs out before the next delivery can come.

The rule, exactly. Projected closing stock on day ``as_of + k`` (k >= 1) is the on hand at the close
of ``as_of``, plus what arrives on the mornings of ``as_of + 1 .. as_of + k``, minus the forecast mean
demand of those days. The stock-out day is the first day it goes below zero, and ``cover_days`` the
whole days served before it (0: short tomorrow). With lead time ``L`` (days, at least 1), an order
placed at the next review, the close of ``as_of + 1``, arrives on the morning of ``as_of + 1 + L``;
a store × material alerts when its stock-out day comes before that morning:

    alert  <=>  cover_days < L  (the days until stock goes below zero, cover_days + 1, are < L + 1)

The orders placed so far are in transit and counted. An order placed tonight (close of ``as_of``)
would arrive a day earlier, on ``as_of + L``, so of the alerts, those with ``cover_days == L - 1``
can still be rescued tonight and those with ``cover_days < L - 1`` cannot (``rescue_tonight``).
Severity by how soon: short tomorrow is critical, the day after high, later medium.

Figures (``numbers``): ``on_hand``, ``in_transit`` (arriving by ``as_of + L``), ``daily_forecast``
(mean per day over those L days), ``forecast_to_delivery`` (their sum), ``cover_days``,
``lead_days``, ``stockout_on``, ``next_delivery_on`` (``as_of + 1 + L``), ``short_quantity``
(the deepest the projection falls below zero by then, rounded up: what would have to be on hand
on top to serve every day until the next delivery), ``rescue_tonight``, ``unit``.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from numpy.typing import ArrayLike

from newretail.errors import InvalidInput
from newretail.supply.alerts.alert import Alert, Severity
from newretail.supply.checks import amounts, quantities

# Forecasts are fractional: a projection within this of zero is zero, not a stock-out.
_TOLERANCE = 1e-6


def stockouts(
    *,
    as_of: dt.date,
    store_ids: ArrayLike,
    material_ids: ArrayLike,
    on_hand: ArrayLike,
    in_transit: ArrayLike,
    forecast: ArrayLike,
    lead_days: ArrayLike,
    units: ArrayLike,
) -> list[Alert]:
    """The stock-out alerts of stores (S,) × materials (M,), ordered by store and material.

    ``on_hand`` (S, M) base units; ``in_transit`` (S, M, K) base units arriving on the morning of
    ``as_of + 1 + k``; ``forecast`` (S, M, H) mean demand on ``as_of + 1 + h`` (H >= the longest lead
    time); ``lead_days`` (S,) >= 1; ``units`` (M,) the materials' base units.
    """
    stores, materials = np.asarray(store_ids).astype(str), np.asarray(material_ids).astype(str)
    shape = (len(stores), len(materials))
    stock = quantities(on_hand, shape, field="on_hand")
    lead = quantities(lead_days, (len(stores),), field="lead_days", minimum=1)
    window = int(lead.max(initial=1))
    arriving = _window(
        quantities(in_transit, _shape3(in_transit, shape), field="in_transit"), window
    )
    mean = amounts(forecast, _shape3(forecast, shape), field="forecast")
    if mean.shape[2] < window:
        raise InvalidInput(
            "supply.forecast_too_short",
            f"the forecast covers {mean.shape[2]} days, the longest lead time is {window}",
            field="forecast",
        )
    demand = mean[:, :, :window]
    projected = stock[:, :, None] + np.cumsum(arriving, axis=2) - np.cumsum(demand, axis=2)
    below = projected < -_TOLERANCE
    cover = np.where(below.any(axis=2), below.argmax(axis=2), window)  # whole days served
    alerting = cover < lead[:, None]
    found = []
    for s, m in zip(*np.nonzero(alerting), strict=True):
        days = int(lead[s])
        due = float(demand[s, m, :days].sum())
        arrives = int(arriving[s, m, :days].sum())
        covered = int(cover[s, m])
        found.append(
            Alert(
                kind="stockout",
                severity=_severity(covered),
                location_type="store",
                location_id=str(stores[s]),
                material_id=str(materials[m]),
                business_date=as_of,
                numbers={
                    "on_hand": int(stock[s, m]),
                    "in_transit": arrives,
                    "daily_forecast": round(due / days, 2),
                    "forecast_to_delivery": round(due, 1),
                    "cover_days": covered,
                    "lead_days": days,
                    "stockout_on": (as_of + dt.timedelta(days=covered + 1)).isoformat(),
                    "next_delivery_on": (as_of + dt.timedelta(days=days + 1)).isoformat(),
                    "short_quantity": math.ceil(-float(projected[s, m, :days].min())),
                    "rescue_tonight": covered == days - 1,
                    "unit": str(np.asarray(units)[m]),
                },
            )
        )
    return found


def _severity(cover_days: int) -> Severity:
    return "critical" if cover_days == 0 else "high" if cover_days == 1 else "medium"


def _shape3(values: ArrayLike, shape: tuple[int, int]) -> tuple[int, int, int]:
    """(S, M, days): the given number of days, whatever it is, on the stores × materials axes."""
    array = np.asarray(values)
    days = array.shape[2] if array.ndim == 3 else 0
    return (*shape, days)


def _window(arrivals: np.ndarray, days: int) -> np.ndarray:
    """Arrivals over exactly ``days`` days: later ones cut, missing ones none."""
    out = np.zeros((*arrivals.shape[:2], days), dtype=np.int64)
    kept = min(days, arrivals.shape[2])
    out[:, :, :kept] = arrivals[:, :, :kept]
    return out
