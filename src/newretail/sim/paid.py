"""The paid annual membership sold in the app: purchases, renewals at expiry and lapses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.loyalty import Programme
from newretail.sim.world import World

# A year costs CNY 199.00; in Singapore SGD 59.90, about ten lattes, as 199 CNY is in China.
ANNUAL_FEE = np.array([19_900, 5_990])
TERM_DAYS = 365
_HELD_AT_START = 0.06
_MONTHLY_BUY = 0.004
_RENEW = 0.6


@dataclass
class Paid:
    """Per app membership: the paid membership's first purchase and the last day it is valid."""

    first_s: np.ndarray  # -1: never bought
    expires: np.ndarray  # last valid day (relative to the start); -10**6: never bought
    propensity: np.ndarray  # heavier buyers value the benefits more (a latent, kept in truth)


@dataclass(frozen=True)
class Terms:
    """Terms bought in a period: app membership index, purchase time, last valid day, renewal."""

    member: np.ndarray
    bought_s: np.ndarray
    first_s: np.ndarray  # first purchase of the membership (its joined_at)
    expires: np.ndarray
    renewal: np.ndarray


def build(world: World, app: Programme, rng: np.random.Generator) -> tuple[Paid, Terms]:
    """Paid memberships already running on the first day (bought within the last year)."""
    n = len(app.holder)
    rate = world.persons.base_rate[app.person]
    propensity = np.clip(rate / np.median(rate) if n else rate, 0.3, 3.0)
    member = np.flatnonzero((app.joined_day < -30) & (rng.random(n) < _HELD_AT_START * propensity))
    day = -rng.integers(1, TERM_DAYS, len(member))
    day = np.maximum(day, app.joined_day[member] + 1)
    bought = _instants(world, day, rng)
    paid = Paid(np.full(n, -1), np.full(n, -(10**6)), propensity)
    paid.first_s[member] = bought
    paid.expires[member] = day + TERM_DAYS - 1
    terms = Terms(member, bought, bought, paid.expires[member], np.zeros(len(member), dtype=bool))
    return paid, terms


def _instants(world: World, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Bought in the app between 09:00 and 22:00 at UTC+8 (both countries keep it).
    instants: np.ndarray = (
        world.epoch0 + day * 86400 - 8 * 3600 + rng.integers(9, 22, len(day)) * 3600
    )
    return instants


def month(
    world: World,
    app: Programme,
    paid: Paid,
    first: int,
    end: int,
    rng: np.random.Generator,
) -> Terms:
    """Renewals of terms ending before ``end`` and new purchases in [first, end)."""
    n = len(app.holder)
    due = (paid.expires >= first - 1) & (paid.expires < end - 1)
    renew = np.flatnonzero(due & (rng.random(n) < _RENEW))
    renew_day = paid.expires[renew] + 1
    lapsed = paid.expires < first - 1  # never bought, or lapsed before this month's renewals
    joined = np.maximum(app.joined_day + 1, first)
    buy = np.flatnonzero(lapsed & (joined < end) & (rng.random(n) < _MONTHLY_BUY * paid.propensity))
    buy_day = joined[buy] + (rng.random(len(buy)) * (end - joined[buy])).astype(np.int64)
    member = np.r_[renew, buy]
    day = np.r_[renew_day, buy_day]
    bought = _instants(world, day, rng)
    paid.expires[member] = day + TERM_DAYS - 1
    never = paid.first_s[member] < 0
    paid.first_s[member[never]] = bought[never]
    order = np.argsort(bought, kind="stable")
    renewal = np.r_[np.ones(len(renew), dtype=bool), np.zeros(len(buy), dtype=bool)]
    member = member[order]
    return Terms(member, bought[order], paid.first_s[member], paid.expires[member], renewal[order])
