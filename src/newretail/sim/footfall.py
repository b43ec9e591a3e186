"""Door counts per store and local hour: the hour's in-store buyers, pickups and people who only look."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.baskets import DINE_IN, PICKUP, TAKEAWAY
from newretail.sim.demand import POS
from newretail.sim.pricing import Orders
from newretail.sim.stores import WALK_IN
from newretail.sim.world import Month, World

OPEN_HOURS = range(7, 21)  # local hours the doors are open (every order falls inside them)
_LOOKERS_PER_BUYER = 0.25
_LOOKERS_PER_HOUR = 0.8  # at a standard store; scaled by the format's walk-in traffic


@dataclass(frozen=True)
class Counts:
    store: np.ndarray
    day: np.ndarray
    hour: np.ndarray  # local hour
    visitors: np.ndarray
    buyers: np.ndarray  # dine-in and takeaway orders at the till in that hour (truth)


def count(world: World, month: Month, orders: Orders, rng: np.random.Generator) -> Counts:
    stores = world.stores
    n_days, n_stores = month.end - month.first, len(stores)
    local_hour = (orders.placed_s + world.offset_s[orders.store]) % 86400 // 3600
    cell = ((orders.day - month.first) * n_stores + orders.store) * 24 + local_hour
    size = n_days * n_stores * 24
    till = (orders.channel == POS) & np.isin(orders.fulfilment, (DINE_IN, TAKEAWAY))
    buyers = np.bincount(cell[till], minlength=size)
    pickups = np.bincount(cell[orders.fulfilment == PICKUP], minlength=size)
    base = np.zeros((n_days, n_stores, 24))
    base[:, :, list(OPEN_HOURS)] = _LOOKERS_PER_HOUR * WALK_IN[stores.format][None, :, None]
    lookers = rng.poisson(base.ravel() + _LOOKERS_PER_BUYER * buyers)
    visitors = buyers + pickups + lookers
    days = np.arange(month.first, month.end)
    open_ = np.stack([stores.open_on(int(d)) for d in days])
    in_hours = np.zeros(24, dtype=bool)
    in_hours[list(OPEN_HOURS)] = True
    shown = (open_[:, :, None] & in_hours[None, None, :]).ravel() | (visitors > 0)
    rows = np.flatnonzero(shown)
    d, rest = np.divmod(rows, n_stores * 24)
    s, h = np.divmod(rest, 24)
    return Counts(s, month.first + d, h, visitors[rows], buyers[rows])
