"""Who orders when: member orders by lifecycle, daypart and calendar; coupon-driven extra orders; walk-ins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.catalog import CATEGORIES
from newretail.sim.members import RATE_BY_STATE
from newretail.sim.stores import WALK_IN
from newretail.sim.world import Month, World

CHANNELS = ("app", "mini_program", "pos", "meituan", "eleme", "tmall")
APP, MINI, POS, MEITUAN, ELEME, TMALL = range(6)
_CHANNEL_SOURCE = ("app", "mini_program", "pos", "meituan", "eleme", "tmall")
_JOIN_TO_CHANNEL = np.array([APP, MINI, MINI, POS, MEITUAN, ELEME, TMALL])
_CHANNEL_WEIGHT = np.array([1.0, 1.2, 1.5, 0.6, 0.5, 0.08])
# Hour-of-day profiles (local hour 0-23) per daypart habit, and for anonymous walk-ins.
_HOURS = np.zeros((4, 24))
_HOURS[0, 7:21] = [8, 14, 12, 7, 4, 3, 2, 2, 2, 1.5, 1, 0.8, 0.5, 0.3]
_HOURS[1, 7:21] = [1, 2, 3, 4, 6, 6, 8, 9, 8, 6, 3, 2, 1, 0.5]
_HOURS[2, 7:21] = [0.5, 1, 1, 1, 2, 2, 2, 3, 4, 5, 7, 7, 6, 4]
_HOURS[3, 7:21] = [5, 8, 8, 6, 6, 6, 5, 5, 5, 4, 3, 2, 1.5, 1]
HOUR_CDF = np.cumsum(_HOURS / _HOURS.sum(axis=1, keepdims=True), axis=1)
CATEGORY_MIX = np.array([0.6, 0.2, 0.17, 0.03])
FAVOURITE_SHARE = 0.6  # a member's line is from the favourite category, else from the mix


@dataclass
class Requests:
    """Orders customers want to place this month, before stock-outs (one row per order)."""

    person: np.ndarray  # -1 for anonymous walk-ins
    store: np.ndarray
    day: np.ndarray
    placed_s: np.ndarray  # UTC epoch seconds
    channel: np.ndarray
    coupon: np.ndarray  # index into this month's coupons for coupon-driven orders, else -1


def member_requests(world: World, month: Month, rng: np.random.Generator) -> Requests:
    persons, cal = world.persons, world.calendar
    city = world.stores.city[persons.home_store]
    # Cumulative calendar factor per city, so a person's expected orders in any window is one lookup.
    cum = np.zeros((cal.factor.shape[1], month.end - month.first + 1))
    cum[:, 1:] = np.cumsum(cal.factor[month.first : month.end].T, axis=1)
    lo = np.clip(persons.join_day - month.first, 0, month.end - month.first)
    weight = cum[city, -1] - cum[city, lo]
    rate = persons.base_rate * RATE_BY_STATE[persons.lifecycle[:, month.index]]
    counts = rng.poisson(rate * weight)
    who = np.repeat(np.arange(len(persons)), counts)
    target = cum[city[who], lo[who]] + rng.random(len(who)) * weight[who]
    day = np.empty(len(who), dtype=np.int64)
    for c in np.unique(city[who]):
        sel = city[who] == c
        day[sel] = np.searchsorted(cum[c], target[sel], side="left") - 1
    day = month.first + np.clip(day, lo[who], month.end - month.first - 1)
    habit = persons.daypart[who]
    return Requests(
        who,
        persons.home_store[who],
        day,
        _instants(world, rng, day, habit, who),
        np.full(len(who), -1),
        np.full(len(who), -1),
    )


def walk_in_rate(world: World, days: np.ndarray) -> np.ndarray:
    """Expected anonymous orders per day and store (days x stores): busier formats, better days."""
    stores, cal = world.stores, world.calendar
    member_daily = world.persons.base_rate.sum() * 0.7 / max(1, len(stores))
    open_ = np.stack([stores.open_on(int(d)) for d in days])
    rate: np.ndarray = (
        0.45 * member_daily * WALK_IN[stores.format] * cal.factor[days][:, stores.city] * open_
    )
    return rate


def walk_in_requests(world: World, month: Month, rng: np.random.Generator) -> Requests:
    days = np.arange(month.first, month.end)
    counts = rng.poisson(walk_in_rate(world, days))
    day_idx, store = np.nonzero(counts)
    reps = counts[day_idx, store]
    day = np.repeat(days[day_idx], reps)
    store = np.repeat(store, reps)
    n = len(day)
    return Requests(
        np.full(n, -1),
        store,
        day,
        _instants(world, rng, day, np.full(n, 3), np.full(n, -1), store=store),
        np.full(n, POS),
        np.full(n, -1),
    )


def coupon_requests(
    world: World,
    rng: np.random.Generator,
    person: np.ndarray,
    channel: np.ndarray,
    first_day: np.ndarray,
    end_day: np.ndarray,
    expected: np.ndarray,
) -> Requests:
    """Extra orders a coupon causes: Poisson(expected) per coupon inside its window."""
    counts = rng.poisson(expected)
    coupon = np.repeat(np.arange(len(person)), counts)
    span = end_day[coupon] - first_day[coupon]
    day = first_day[coupon] + (rng.random(len(coupon)) * span).astype(np.int64)
    who = person[coupon]
    return Requests(
        who,
        world.persons.home_store[who],
        day,
        _instants(world, rng, day, world.persons.daypart[who], who),
        channel[coupon],
        coupon,
    )


def _instants(
    world: World,
    rng: np.random.Generator,
    day: np.ndarray,
    habit: np.ndarray,
    who: np.ndarray,
    store: np.ndarray | None = None,
) -> np.ndarray:
    u = rng.random(len(day))
    hour = np.empty(len(day), dtype=np.int64)
    for h in range(len(HOUR_CDF)):
        sel = habit == h
        hour[sel] = np.minimum(np.searchsorted(HOUR_CDF[h], u[sel], side="right"), 23)
    if store is None:
        store = world.persons.home_store[who]
    local_midnight = world.epoch0 + day * 86400 - world.offset_s[store]
    instants: np.ndarray = local_midnight + hour * 3600 + rng.integers(0, 3600, len(day))
    return instants


def channel_weights(world: World, who: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """Relative odds (persons x CHANNELS) that a member's order goes through each channel on ``day``."""
    weights = np.empty((len(who), len(CHANNELS)))
    for c, source in enumerate(_CHANNEL_SOURCE):
        exists = world.identities.created_day[source][who] <= day
        weights[:, c] = _CHANNEL_WEIGHT[c] * (exists | (c == POS))
    joined = _JOIN_TO_CHANNEL[world.persons.join_channel[who]]
    weights[np.arange(len(who)), joined] *= 3.0
    return weights


def choose_channels(world: World, req: Requests, rng: np.random.Generator) -> None:
    """Members order where they hold a record (joined channel preferred); POS is always open."""
    member = np.flatnonzero((req.person >= 0) & (req.channel < 0))
    weights = channel_weights(world, req.person[member], req.day[member])
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(member)) * cdf[:, -1]
    req.channel[member] = (u[:, None] > cdf).sum(axis=1)


def line_categories(
    world: World, req: Requests, order: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(order)
    general = (rng.random(n)[:, None] > np.cumsum(CATEGORY_MIX)).sum(axis=1)
    person = req.person[order]
    favourite = world.persons.favourite[np.maximum(person, 0)]
    cat = np.where((person >= 0) & (rng.random(n) < FAVOURITE_SHARE), favourite, general)
    return np.where(req.channel[order] == TMALL, CATEGORIES.index("retail"), cat)
