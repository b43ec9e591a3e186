"""Expected units per store, product and day: ``demand`` and ``baskets`` taken in expectation.

Channel odds are taken at mid-month; everything else (moves, cancellations, basket sizes) is exact.
"""

from __future__ import annotations

import math

import numpy as np

from newretail.sim import baskets as b
from newretail.sim.coupons import Coupons
from newretail.sim.demand import (
    APP,
    CATEGORY_MIX,
    ELEME,
    FAVOURITE_SHARE,
    MEITUAN,
    MINI,
    POS,
    channel_weights,
    walk_in_rate,
)
from newretail.sim.members import RATE_BY_STATE
from newretail.sim.stores import DELIVERY_KITCHEN, Stores
from newretail.sim.world import Month, World


def units_per_order() -> float:
    """Expected units of an order: 1 + E[min(Poisson, cap)] lines, each 1 + P(2) + P(3) units."""
    lam, cap = b.EXTRA_LINES, b.MAX_EXTRA_LINES
    p = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(cap)]
    extra = sum(k * pk for k, pk in enumerate(p)) + cap * (1 - sum(p))
    return (1 + extra) * (1 + b.QTY_TWO + b.QTY_THREE)


def expected_units(world: World, month: Month, issued: Coupons) -> np.ndarray:
    """Expected units sold from store stock (days x stores x products) if nothing ran out."""
    persons, stores = world.persons, world.stores
    days = np.arange(month.first, month.end)
    n_days, n_stores, n_cat = len(days), len(stores), len(CATEGORY_MIX)
    share = channel_weights(world, np.arange(len(persons)), (month.first + month.end - 1) // 2)
    share /= share.sum(axis=1, keepdims=True)
    kept = 1 - b.CANCEL_OTHER
    app_like = share[:, APP] + share[:, MINI]
    delivered = (app_like * b.APP_DELIVERY + share[:, MEITUAN] + share[:, ELEME]) * kept
    in_store = share[:, POS] * (1 - b.CANCEL_POS) + app_like * (1 - b.APP_DELIVERY) * kept
    rate = persons.base_rate * RATE_BY_STATE[persons.lifecycle[:, month.index]]
    mix = _line_mix(persons.favourite)
    cell = persons.home_store * (n_days + 1) + np.clip(persons.join_day - month.first, 0, n_days)
    factor = world.calendar.factor[days][:, stores.city].T[:, :, None]
    coupon_d, coupon_o = _coupon_orders(world, month, issued, mix)
    streams = []
    for weight, coupon in ((delivered, coupon_d), (in_store, coupon_o)):
        grid = np.stack(
            [
                np.bincount(cell, rate * weight * mix[:, c], minlength=n_stores * (n_days + 1))
                for c in range(n_cat)
            ],
            axis=-1,
        ).reshape(n_stores, n_days + 1, n_cat)
        # Members count from the day they join: a running sum over join days.
        streams.append(np.cumsum(grid, axis=1)[:, :n_days] * factor + coupon)
    walk = walk_in_rate(world, days).T[:, :, None] * CATEGORY_MIX * (1 - b.CANCEL_POS)
    orders = np.empty((n_days, n_stores, n_cat))
    for i, d in enumerate(days):
        delivery = _to_kitchens(stores, int(d), _elsewhere(stores, int(d), streams[0][:, i]))
        orders[i] = delivery + _elsewhere(stores, int(d), streams[1][:, i]) + walk[:, i]
    units: np.ndarray = np.einsum(
        "dsc,dcp->dsp", orders * units_per_order(), _product_mix(world, days)
    )
    return units


def _line_mix(favourite: np.ndarray) -> np.ndarray:
    mix = np.tile((1 - FAVOURITE_SHARE) * CATEGORY_MIX, (len(favourite), 1))
    mix[np.arange(len(favourite)), favourite] += FAVOURITE_SHARE
    return mix


def _coupon_orders(
    world: World, month: Month, issued: Coupons, mix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coupon-caused orders (stores x days x categories), spread evenly over each coupon's window."""
    n_days, n_stores = month.end - month.first, len(world.stores)
    per_day = issued.expected / np.maximum(issued.window_end - issued.issue_day, 1)
    store = world.persons.home_store[issued.person]
    lo = store * (n_days + 1) + issued.issue_day - month.first
    hi = store * (n_days + 1) + issued.window_end - month.first
    size = n_stores * (n_days + 1)
    diff = np.stack(
        [
            np.bincount(lo, per_day * mix[issued.person, c], minlength=size)
            - np.bincount(hi, per_day * mix[issued.person, c], minlength=size)
            for c in range(mix.shape[1])
        ],
        axis=-1,
    ).reshape(n_stores, n_days + 1, -1)
    daily = np.cumsum(diff, axis=1)[:, :n_days] * (1 - b.CANCEL_OTHER)
    return daily * b.APP_DELIVERY, daily * (1 - b.APP_DELIVERY)


def _elsewhere(stores: Stores, day: int, x: np.ndarray) -> np.ndarray:
    """Member orders after some move to (and all at closed stores go to) open shops of the city."""
    open_ = stores.open_on(day)
    shop = open_ & (stores.format != DELIVERY_KITCHEN)
    moved = np.where(open_[:, None], b.ELSEWHERE * x, x)
    pool = np.zeros((int(stores.city.max()) + 1, x.shape[1]))
    np.add.at(pool, stores.city, moved)
    slots = np.bincount(stores.city[shop], minlength=len(pool))
    arrived = np.where(
        shop[:, None], pool[stores.city] / np.maximum(slots[stores.city], 1)[:, None], 0
    )
    out: np.ndarray = x - moved + arrived
    return out


def _to_kitchens(stores: Stores, day: int, x: np.ndarray) -> np.ndarray:
    """Deliveries after half move to the city's trading delivery kitchens (where there are some)."""
    kitchen = stores.open_on(day) & (stores.format == DELIVERY_KITCHEN)
    slots = np.bincount(stores.city[kitchen], minlength=int(stores.city.max()) + 1)
    moved = np.where((slots[stores.city] > 0)[:, None], b.TO_KITCHEN * x, 0)
    pool = np.zeros((len(slots), x.shape[1]))
    np.add.at(pool, stores.city, moved)
    arrived = np.where(
        kitchen[:, None], pool[stores.city] / np.maximum(slots[stores.city], 1)[:, None], 0
    )
    out: np.ndarray = x - moved + arrived
    return out


def _product_mix(world: World, days: np.ndarray) -> np.ndarray:
    """P(product | category, day): popularity among the category's products on sale that day."""
    cat = world.catalog
    on_sale = np.stack([cat.on_sale(int(d)) for d in days])  # (D, P)
    weight = (on_sale * cat.popularity)[:, None, :] * (
        cat.category[None, None, :] == np.arange(len(CATEGORY_MIX))[None, :, None]
    )
    total = weight.sum(axis=2, keepdims=True)
    mix: np.ndarray = weight / np.where(total > 0, total, 1)
    return mix
