"""Kitchens under load: make time grows with the store-hour's orders; riders, lateness and its fallout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.baskets import DELIVERY, DINE_IN, PICKUP, SHIPPING, TAKEAWAY
from newretail.sim.demand import APP, ELEME, MEITUAN, MINI
from newretail.sim.pricing import Orders
from newretail.sim.world import World

NULL = -1


@dataclass(frozen=True)
class Service:
    accepted_s: np.ndarray  # -1 where null
    made_s: np.ndarray
    completed_s: np.ndarray
    promised_s: np.ndarray
    late_s: np.ndarray  # seconds past the promise (delivery), 0 otherwise


def serve(world: World, orders: Orders, rng: np.random.Generator) -> Service:
    n = len(orders.day)
    local_hour = (orders.placed_s + world.offset_s[orders.store]) // 3600
    in_store = ~orders.cancelled & (orders.fulfilment != SHIPPING)
    key = orders.store * 10_000_000 + local_hour
    _uniq, inverse, counts = np.unique(
        np.where(in_store, key, -1), return_inverse=True, return_counts=True
    )
    load = counts[inverse]
    lines = np.bincount(orders.line_order, minlength=n)
    make = (70 + 9 * load) * (1 + 0.3 * (lines - 1)) * rng.lognormal(0, 0.25, n)
    accepted = orders.placed_s + rng.integers(5, 90, n)
    made = accepted + make.astype(np.int64)
    rain = world.calendar.rain[orders.day, world.stores.city[orders.store]]
    ride = rng.lognormal(np.log(16 * 60), 0.35, n) * np.where(rain, 1.3, 1.0)
    promised = orders.placed_s + np.where(rain, 45, 35) * 60
    completed = np.select(
        [
            orders.fulfilment == DINE_IN,
            orders.fulfilment == TAKEAWAY,
            orders.fulfilment == PICKUP,
            orders.fulfilment == DELIVERY,
        ],
        [
            made + rng.integers(0, 60, n),
            made + rng.integers(0, 60, n),
            made + rng.integers(60, 900, n),
            made + ride.astype(np.int64),
        ],
        orders.placed_s + rng.integers(2 * 86400, 4 * 86400, n),
    )
    shipping = orders.fulfilment == SHIPPING
    accepted = np.where(shipping, orders.placed_s + rng.integers(3600, 6 * 3600, n), accepted)
    made = np.where(shipping, NULL, made)
    delivery = orders.fulfilment == DELIVERY
    late = np.where(delivery, np.maximum(completed - promised, 0), 0)
    cancelled = orders.cancelled
    return Service(
        accepted_s=np.where(cancelled, NULL, accepted),
        made_s=np.where(cancelled, NULL, made),
        completed_s=np.where(cancelled, NULL, completed),
        promised_s=np.where(delivery, promised, NULL),
        late_s=np.where(cancelled, 0, late),
    )


@dataclass(frozen=True)
class Aftermath:
    rating_order: np.ndarray
    rating_stars: np.ndarray
    rating_s: np.ndarray
    complaint_order: np.ndarray
    complaint_category: np.ndarray  # index into codes.COMPLAINT_CATEGORIES
    complaint_s: np.ndarray
    refund_order: np.ndarray
    refund_reason: np.ndarray  # index into codes.REFUND_REASONS
    refund_amount: np.ndarray
    refund_s: np.ndarray


def aftermath(orders: Orders, service: Service, rng: np.random.Generator) -> Aftermath:
    """Ratings fall with delays; late deliveries bring complaints and refunds."""
    n = len(orders.day)
    done = ~orders.cancelled
    rated = done & np.isin(orders.channel, (APP, MINI, MEITUAN, ELEME)) & (rng.random(n) < 0.12)
    late_min = service.late_s / 60
    stars = np.clip(np.round(4.7 - late_min / 8 + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    r = np.flatnonzero(rated)
    u = rng.random(n)
    complain = done & (((late_min > 10) & (u < 0.15)) | (u > 0.9993))
    c = np.flatnonzero(complain)
    category = np.where(late_min[c] > 10, 0, rng.integers(1, 6, len(c)))
    refund_late = done & (late_min > 20) & (rng.random(n) < 0.3)
    refund_quality = done & ~refund_late & (rng.random(n) < 0.002)
    f = np.flatnonzero(refund_late | refund_quality)
    amount = np.where(
        refund_late[f],
        np.minimum(orders.paid[f], orders.fee[f] + orders.gross[f] // 5),
        orders.paid[f],
    )
    f, amount = f[amount > 0], amount[amount > 0]
    after = service.completed_s
    return Aftermath(
        r,
        stars[r],
        after[r] + rng.integers(600, 86400, len(r)),
        c,
        category,
        after[c] + rng.integers(300, 7200, len(c)),
        f,
        np.where(refund_late[f], 0, 2),
        amount,
        after[f] + rng.integers(300, 7200, len(f)),
    )
