"""New products: their first weeks read from analogue products' launch curves, for the forecast of a
product that starts selling inside the horizon and for the launch allocation (G4): how much of a new
product each store receives before it has sold a unit.

Analogues are the products of the same subcategory (else category) that launched inside the history
with at least ``_MIN_DAYS`` days on sale. A store's curve is its analogues' mean units on each day
since launch; a store that did not trade through any analogue's launch takes the mean curve of the
stores of its format (a store tag), and, failing that, of the chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.errors import InvalidInput, NotFound
from newretail.supply.history import History
from newretail.trade.pricing import apportion

_MIN_DAYS = 14
MAX_CURVE_DAYS = 56


@dataclass(frozen=True)
class LaunchCurve:
    analogues: tuple[str, ...]
    units: np.ndarray  # (K, S) mean units per store on day k after launch
    basis: np.ndarray  # str (S,): "analogues", "format" or "chain"


def analogues_of(history: History, product_id: str) -> list[int]:
    """Indices of the products a new ``product_id`` is expected to sell like."""
    goods = history.goods
    ids = list(goods.product_ids)
    if product_id not in ids:
        raise NotFound("supply.unknown_product", f"unknown product {product_id}", field="product")
    p = ids.index(product_id)
    first = np.datetime64(history.sales.first, "D")
    days_on = (np.datetime64(history.sales.last, "D") - goods.product_launched).astype(np.int64)
    launched_inside = (goods.product_launched > first) & (days_on >= _MIN_DAYS)
    launched_inside[p] = False
    for same in (
        goods.product_subcategory == goods.product_subcategory[p],
        goods.product_category == goods.product_category[p],
    ):
        found = np.flatnonzero(same & launched_inside)
        if len(found):
            return [int(i) for i in found]
    return []


def launch_curve(history: History, product_id: str, days: int) -> LaunchCurve:
    """Each store's expected units on each of the first ``days`` days of ``product_id``."""
    if not 1 <= days <= MAX_CURVE_DAYS:
        raise InvalidInput(
            "supply.bad_launch_days", f"days must be 1 to {MAX_CURVE_DAYS}", field="days"
        )
    found = analogues_of(history, product_id)
    if not found:
        raise InvalidInput(
            "supply.no_analogues",
            f"no product like {product_id} launched in the history to learn a launch from",
            field="product",
        )
    sales, goods = history.sales, history.goods
    n_stores = sales.units.shape[1]
    total = np.zeros((days, n_stores))
    counted = np.zeros((days, n_stores))
    for a in found:
        start = int((goods.product_launched[a] - np.datetime64(sales.first, "D")).astype(np.int64))
        window = slice(start, min(start + days, sales.days))
        span = window.stop - window.start
        selling = sales.on_sale[window, :, a]
        total[:span] += np.where(selling, sales.units[window, :, a], 0)
        counted[:span] += selling
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = np.where(counted > 0, total / np.maximum(counted, 1), np.nan)
    return _fill(history, curve, tuple(str(goods.product_ids[a]) for a in found))


def _fill(history: History, curve: np.ndarray, analogues: tuple[str, ...]) -> LaunchCurve:
    """Stores without an analogue's launch take their format's mean curve, else the chain's."""
    fmt = history.network.store_format
    basis = np.where(np.isnan(curve).all(axis=0), "format", "analogues").astype(object)
    chain = np.nanmean(np.where(np.isnan(curve), np.nan, curve), axis=1) if curve.size else curve
    chain = np.nan_to_num(chain)
    filled = curve.copy()
    for f in np.unique(fmt):
        peers = (fmt == f) & (basis == "analogues")
        for s in np.flatnonzero((fmt == f) & (basis == "format")):
            if peers.any():
                filled[:, s] = np.nanmean(curve[:, peers], axis=1)
            else:
                filled[:, s] = chain
                basis[s] = "chain"
    return LaunchCurve(analogues, np.nan_to_num(filled), basis.astype(str))


@dataclass(frozen=True)
class Allocation:
    product_id: str
    launch: dt.date
    days: int
    analogues: tuple[str, ...]
    store_ids: np.ndarray  # str (S,)
    units: np.ndarray  # int (S,) initial quantity per store
    expected: np.ndarray  # float (S,) expected units over the first ``days`` days
    basis: np.ndarray  # str (S,)


def allocate_launch(
    history: History,
    *,
    product_id: str,
    launch: dt.date,
    days: int = 14,
    total_units: int | None = None,
) -> Allocation:
    """Initial units per open store for the first ``days`` days of ``product_id`` from ``launch``.

    Without ``total_units`` every store gets its expected units rounded up; with it, the total is
    shared in proportion to expectation by largest remainder, so the parts add up exactly.
    """
    if total_units is not None and total_units < 0:
        raise InvalidInput("supply.bad_total", "total units must not be negative", field="total")
    curve = launch_curve(history, product_id, days)
    network = history.network
    when = np.datetime64(launch, "D")
    never = np.datetime64("9999-12-31")
    open_ = (network.store_opened <= when) & (
        np.where(np.isnat(network.store_closed), never, network.store_closed) >= when
    )
    expected = np.where(open_, curve.units.sum(axis=0), 0.0)
    if total_units is None:
        units = np.ceil(expected - 1e-9).astype(np.int64)
    else:
        # Shares by largest remainder on expectations in thousandths of a unit.
        shares = apportion(total_units, [(s, round(w * 1000)) for s, w in enumerate(expected)])
        units = np.array([shares[s] for s in range(len(expected))], dtype=np.int64)
    return Allocation(
        product_id, launch, days, curve.analogues, network.store_ids, units, expected, curve.basis
    )


def with_launches(history: History, origin: dt.date, forecast: np.ndarray) -> np.ndarray:
    """(H, S, P) ``forecast`` with products that start selling inside the horizon filled from
    their analogues' launch curves (a product without analogues keeps its zeros)."""
    goods = history.goods
    horizon = forecast.shape[0]
    start = np.datetime64(origin, "D") + 1
    offsets = (goods.product_launched - start).astype(np.int64)
    result: np.ndarray = forecast.copy()
    for p in np.flatnonzero((offsets >= 0) & (offsets < horizon)):
        try:
            curve = launch_curve(history, str(goods.product_ids[p]), horizon - int(offsets[p]))
        except InvalidInput:
            continue
        result[int(offsets[p]) :, :, p] = curve.units
    return result
