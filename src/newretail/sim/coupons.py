"""Campaigns issue coupons to members; each coupon lifts its holder's orders by a known amount."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.demand import APP, MINI
from newretail.sim.members import ACTIVE, CHURNED, LAPSING
from newretail.sim.world import Month, World

COUPON_TYPES = ("amount_off", "percent_off", "free_drink")
CAMPAIGNS = ("wake_up", "new_product", "welcome")
VALIDITY_DAYS = 14


@dataclass(frozen=True)
class Coupons:
    person: np.ndarray
    channel: np.ndarray  # APP or MINI: where the coupon lives and can be redeemed
    record: np.ndarray  # identity record index in that source
    campaign: np.ndarray  # index into CAMPAIGNS
    kind: np.ndarray  # index into COUPON_TYPES
    value: np.ndarray  # minor units (amount_off), percent (percent_off), 0 (free_drink)
    min_spend: np.ndarray  # minor units
    currency: np.ndarray  # 0 CNY, 1 SGD
    issue_day: np.ndarray
    issued_s: np.ndarray
    expires_s: np.ndarray
    window_end: np.ndarray  # one past the last day extra orders are simulated (inside the month)
    expected: np.ndarray  # true expected incremental orders the coupon causes


def issue(world: World, month: Month, rng: np.random.Generator) -> Coupons:
    persons, ids = world.persons, world.identities
    n = len(persons)
    previous = persons.lifecycle[:, month.index - 1] if month.index else persons.lifecycle[:, 0]
    span = max(1, month.end - month.first - 3)
    day = month.first + rng.integers(0, span, n)
    app_ok = ids.created_day["app"] <= day
    mini_ok = ids.created_day["mini_program"] <= day
    reachable = app_ok | mini_ok
    u = rng.random(n)
    joined_now = (persons.join_day >= month.first) & (persons.join_day < month.end)
    campaign = np.full(n, -1)
    campaign[reachable & np.isin(previous, (LAPSING, CHURNED)) & (u < 0.5)] = 0
    campaign[reachable & (previous == ACTIVE) & (u < 0.08)] = 1
    campaign[reachable & joined_now & (u < 0.6)] = 2
    who = np.flatnonzero(campaign >= 0)
    day = np.maximum(day[who], persons.join_day[who])
    channel = np.where(mini_ok[who] & (~app_ok[who] | (rng.random(len(who)) < 0.5)), MINI, APP)
    record = np.where(channel == APP, ids.primary["app"][who], ids.primary["mini_program"][who])
    camp = campaign[who]
    kind = np.choose(camp, [0, 1, 2])
    sg = persons.country_sg[who]
    value = np.select([kind == 0, kind == 1], [np.where(sg, 150, 500), 20], 0)
    min_spend = np.where(kind == 0, np.where(sg, 600, 2000), 0)
    offset = world.offset_s[persons.home_store[who]]
    issued = world.epoch0 + day * 86400 - offset + rng.integers(9 * 3600, 20 * 3600, len(who))
    window_end = np.minimum(day + VALIDITY_DAYS, month.end)
    # The known uplift: sensitivity is extra orders per fortnight of holding the coupon.
    expected = persons.coupon_sensitivity[who] * (window_end - day) / VALIDITY_DAYS
    return Coupons(
        who,
        channel,
        record,
        camp,
        kind,
        value,
        min_spend,
        sg.astype(np.int64),
        day,
        issued,
        issued + VALIDITY_DAYS * 86400,
        window_end,
        expected,
    )
