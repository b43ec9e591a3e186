"""The forecaster's input at one origin: demand history up to the origin with stock-out days
unconstrained, what is on sale over history and horizon, and the known day features.

Sales on a day a material ran out understate demand. Such a cell is raised to the mean of the same
weekday in the last four weeks without a stock-out (never lowered), the usual demand unconstraining
of retail planning systems; without it every forecast inherits the stock-outs it should prevent.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np

from newretail.errors import InvalidInput
from newretail.supply.forecast.calendar import DayFeatures, day_features
from newretail.supply.history import History, on_sale

MAX_HORIZON_DAYS = 56
_MIN_HISTORY_DAYS = 28
_UNCONSTRAIN_WEEKS = 4
_AGE_CAP_DAYS = 120


@dataclass(frozen=True)
class Panel:
    """Axes: days from ``first`` (history then horizon), stores, products."""

    first: dt.date
    history_days: int  # T: days up to and including the origin
    horizon: int  # H
    demand: np.ndarray  # float (T, S, P): unconstrained sales
    sold: np.ndarray  # int (T, S, P): sales as recorded
    on_sale: np.ndarray  # bool (T + H, S, P)
    features: DayFeatures  # over T + H days
    product_age: np.ndarray  # int (T + H, P): days since launch, clipped to [-1, 120]
    promotions: np.ndarray  # int (T + H, S): coupons live in the store's customers' hands
    store_format: np.ndarray  # int (S,) code of the store's format
    category: np.ndarray  # int (P,) code of the product's category

    @property
    def origin(self) -> dt.date:
        return self.first + dt.timedelta(days=self.history_days - 1)


def build_panel(history: History, *, origin: dt.date, horizon: int) -> Panel:
    """History up to ``origin`` (inclusive) and features for ``horizon`` days after it."""
    sales = history.sales
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise InvalidInput(
            "forecast.bad_horizon",
            f"horizon must be 1 to {MAX_HORIZON_DAYS} days, not {horizon}",
            field="horizon",
        )
    t = (origin - sales.first).days + 1
    if t > sales.days:
        raise InvalidInput(
            "forecast.origin_beyond_data",
            f"origin {origin} is after the last day of sales {sales.last}",
            field="origin",
        )
    if t < max(_MIN_HISTORY_DAYS, 2 * horizon):
        raise InvalidInput(
            "forecast.horizon_beyond_data",
            f"{t} days of history up to {origin} are too few for a {horizon}-day horizon"
            f" (need {max(_MIN_HISTORY_DAYS, 2 * horizon)})",
            field="horizon",
        )
    selling = _on_sale(history, t + horizon)
    sold = sales.units[:t]
    demand = unconstrain(sold, sales.censored[:t])
    features = day_features(
        history.network, history.weather, sales.first, t + horizon, known_days=t
    )
    dates = np.datetime64(sales.first, "D") + np.arange(t + horizon)
    age = (dates[:, None] - history.goods.product_launched[None, :]).astype(np.int64)
    return Panel(
        first=sales.first,
        history_days=t,
        horizon=horizon,
        demand=np.where(selling[:t], demand, 0.0),
        sold=sold,
        on_sale=selling,
        features=features,
        product_age=np.clip(age, -1, _AGE_CAP_DAYS),
        promotions=_promotions(history, t, horizon),
        store_format=np.unique(history.network.store_format, return_inverse=True)[1],
        category=np.unique(history.goods.product_category, return_inverse=True)[1],
    )


def _on_sale(history: History, days: int) -> np.ndarray:
    """On-sale flags over ``days``; beyond the data the menu and store calendar carry on."""
    known = history.sales.on_sale
    if days <= known.shape[0]:
        return known[:days]
    dates = np.datetime64(history.sales.first, "D") + np.arange(known.shape[0], days)
    return np.concatenate([known, on_sale(history.network, history.goods, dates)])


def _promotions(history: History, t: int, horizon: int) -> np.ndarray:
    """Live coupons per store, each counted from ``horizon`` days after its issue: the horizon's
    days then see only coupons issued by the origin, and history days are counted alike."""
    n_stores = len(history.network.store_ids)
    if history.coupons is None:
        return np.zeros((t + horizon, n_stores), dtype=np.int64)
    return history.coupons.live(t + horizon, n_stores, lead=horizon)


def unconstrain(sold: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Raise stock-out days to the recent same-weekday mean of clean days (never lower them)."""
    demand = sold.astype(np.float64)
    clean = np.where(censored, np.nan, demand)
    for day in np.flatnonzero(censored.any(axis=(1, 2))):
        weeks = [day - 7 * k for k in range(1, _UNCONSTRAIN_WEEKS + 1) if day - 7 * k >= 0]
        if not weeks:
            continue
        with warnings.catch_warnings():
            # An all-NaN column (no clean day) stays NaN: the cell keeps its sales.
            warnings.simplefilter("ignore", RuntimeWarning)
            typical = np.nanmean(clean[weeks], axis=0)
        cell = censored[day] & ~np.isnan(typical)
        demand[day][cell] = np.maximum(demand[day][cell], typical[cell])
    return demand
