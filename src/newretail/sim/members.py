"""Persons (true people) with latent traits, home stores and a monthly lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.geography import CITIES
from newretail.sim.rng import stream
from newretail.sim.stores import DELIVERY_KITCHEN, Stores

JOIN_CHANNELS = ("app", "mini_program", "wechat", "pos", "meituan", "eleme", "tmall")
_JOIN_SHARE = np.array([0.25, 0.35, 0.08, 0.16, 0.08, 0.05, 0.03])
NOT_IN_SG = ("meituan", "eleme")
_OWN_CHANNELS = [JOIN_CHANNELS.index(s) for s in ("app", "mini_program", "pos")]
DAYPARTS = ("morning", "afternoon", "evening")
LIFECYCLE = ("prospect", "new", "active", "lapsing", "churned")
NEW, ACTIVE, LAPSING, CHURNED = 1, 2, 3, 4
# Order-rate multiplier per lifecycle state: churned people stop ordering until they come back.
RATE_BY_STATE = np.array([0.0, 1.3, 1.0, 0.3, 0.0])


@dataclass(frozen=True)
class Persons:
    """Arrays over persons (axis N); index i is person_id P{i+1:08d}."""

    home_store: np.ndarray
    country_sg: np.ndarray  # bool
    join_day: np.ndarray  # day relative to the start (negative: joined before it)
    join_channel: np.ndarray  # index into JOIN_CHANNELS
    daypart: np.ndarray  # index into DAYPARTS
    favourite: np.ndarray  # index into catalog.CATEGORIES
    coupon_sensitivity: np.ndarray  # incremental orders per fortnight a coupon is held
    churn_hazard: np.ndarray  # monthly probability active -> lapsing
    referral_propensity: np.ndarray
    base_rate: np.ndarray  # orders per day when active
    gender: np.ndarray  # 0 F, 1 M
    birth_days: np.ndarray  # days since 1970-01-01
    lifecycle: np.ndarray  # int8 (N, months) state at the end of each month
    reactivated: np.ndarray  # bool: came back from churned at least once

    def __len__(self) -> int:
        return len(self.home_store)


def build_persons(
    seed: int, count: int, stores: Stores, days: int, month_starts: list[int]
) -> Persons:
    rng = stream(seed, "persons")
    weights = np.array([CITIES[c].weight for c in stores.city]) * (
        stores.format != DELIVERY_KITCHEN
    )
    if weights.sum() == 0:
        weights = np.ones(len(stores))
    home = rng.choice(len(stores), size=count, p=weights / weights.sum())
    # Six in ten members joined before the horizon; the rest sign up through it.
    before = rng.random(count) < 0.6
    join = np.where(before, -rng.integers(1, 900, count), rng.integers(0, days, count))
    # Nobody joins a store before it opens: an opening drives a wave of sign-ups.
    opened = stores.open_day[home]
    late = join < opened
    join[late] = opened[late] + rng.integers(0, 30, int(late.sum()))
    join = np.minimum(join, days - 1)
    hazard = rng.beta(1.2, 12, count)
    persons_lifecycle, reactivated = _lifecycle(rng, join, hazard, month_starts, days)
    sg = np.array([CITIES[c].country == "SG" for c in stores.city])[home]
    channel = rng.choice(len(JOIN_CHANNELS), size=count, p=_JOIN_SHARE)
    # Meituan and Ele.me do not serve Singapore: people there join through the brand's own channels.
    platform = sg & np.isin(channel, [JOIN_CHANNELS.index(s) for s in NOT_IN_SG])
    channel[platform] = rng.choice(_OWN_CHANNELS, size=int(platform.sum()))
    return Persons(
        home_store=home,
        country_sg=sg,
        join_day=join,
        join_channel=channel,
        daypart=rng.choice(3, size=count, p=[0.55, 0.3, 0.15]),
        favourite=rng.choice(4, size=count, p=[0.66, 0.2, 0.11, 0.03]),
        coupon_sensitivity=np.round(rng.beta(1.5, 4, count) * 1.2, 4),
        churn_hazard=hazard,
        referral_propensity=rng.beta(1, 9, count),
        base_rate=rng.lognormal(np.log(13 / 365), 0.6, count),
        gender=rng.integers(0, 2, count),
        birth_days=rng.integers(-5 * 365, 30 * 365, count),  # born 1965-1999
        lifecycle=persons_lifecycle,
        reactivated=reactivated,
    )


def _lifecycle(
    rng: np.random.Generator,
    join: np.ndarray,
    hazard: np.ndarray,
    month_starts: list[int],
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    count = len(join)
    ends = [*month_starts[1:], days]
    states = np.zeros((count, len(month_starts)), dtype=np.int8)
    # Long-standing members start the horizon spread over the later stages.
    start = rng.choice([ACTIVE, LAPSING, CHURNED], size=count, p=[0.62, 0.13, 0.25])
    state = np.where(join < -30, start, np.where(join < 0, NEW, 0)).astype(np.int8)
    reactivated = np.zeros(count, dtype=bool)
    for m, (first, end) in enumerate(zip(month_starts, ends, strict=True)):
        u = rng.random(count)
        joined_now = (join >= first) & (join < end)
        nxt = state.copy()
        nxt[(state == NEW) & ~joined_now] = ACTIVE
        nxt[(state == ACTIVE) & (u < hazard)] = LAPSING
        nxt[(state == LAPSING) & (u < 0.45)] = CHURNED
        nxt[(state == LAPSING) & (u > 0.8)] = ACTIVE
        back = (state == CHURNED) & (u < 0.03)
        nxt[back] = ACTIVE
        reactivated |= back
        nxt[joined_now] = NEW
        state = nxt
        states[:, m] = state
    return states, reactivated
