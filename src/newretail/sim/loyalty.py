"""Each channel's own member programme: points earned on its orders and spent, levels by spend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.demand import APP, MINI, POS
from newretail.sim.pricing import Orders
from newretail.sim.world import World

PROGRAMS = ("app_member", "wechat_card", "pos_card")
SOURCES = ("app", "wechat", "pos")
LEVELS = ("bronze", "silver", "gold")  # wechat_card uses only the first and last (standard, gold)
# Lifetime spend (CNY-equivalent fen) that reaches each level, per programme.
_THRESHOLDS = {
    "app_member": np.array([0, 50_000, 200_000]),
    "wechat_card": np.array([0, 10**12, 100_000]),
    "pos_card": np.array([0, 80_000, 300_000]),
}
# Points and spend in CNY terms: the Singapore menu costs about a third of the Chinese one in SGD.
_CNY_PER_MINOR = np.array([1, 3])
_REDEEM_STEP = 300
_WECHAT_CARD_SHARE = 0.7  # followers who activated the member card


@dataclass
class Programme:
    """Memberships of one programme; ``of_record`` maps a source record index to its membership."""

    source: str
    holder: np.ndarray  # identity record index in the source
    person: np.ndarray
    joined_s: np.ndarray
    joined_day: np.ndarray
    of_record: np.ndarray
    spend: np.ndarray  # lifetime CNY-equivalent fen
    points: np.ndarray
    level: np.ndarray


@dataclass(frozen=True)
class Versions:
    """Membership versions to write for one programme: indexes into the programme's arrays."""

    rows: np.ndarray
    level: np.ndarray
    points: np.ndarray


def build(world: World, rng: np.random.Generator) -> dict[str, Programme]:
    """Programmes as they stand at the start; members who joined earlier bring spend and points."""
    out: dict[str, Programme] = {}
    for program, source in zip(PROGRAMS, SOURCES, strict=True):
        rec = world.identities.records[source]
        holder = np.flatnonzero(rec.version == 1)
        if program == "wechat_card":
            holder = holder[rng.random(len(holder)) < _WECHAT_CARD_SHARE]
        person = rec.person[holder]
        joined_s = rec.created_s[holder]
        joined_day = (joined_s + 8 * 3600 - world.epoch0) // 86400
        tenure = np.clip(-joined_day, 0, 900)
        # About a third of a member's spend goes through any one programme before the horizon.
        spend = (
            world.persons.base_rate[person] * tenure * 800 * rng.lognormal(0, 0.4, len(holder))
        ).astype(np.int64)
        points = (spend // 100 * rng.uniform(0, 0.4, len(holder))).astype(np.int64)
        of_record = np.full(len(rec.person), -1)
        of_record[holder] = np.arange(len(holder))
        prog = Programme(
            source, holder, person, joined_s, joined_day, of_record, spend, points, spend * 0
        )
        prog.level = _level(program, spend)
        out[program] = prog
    return out


def _level(program: str, spend: np.ndarray) -> np.ndarray:
    level: np.ndarray = np.searchsorted(_THRESHOLDS[program], spend, side="right") - 1
    return level


def initial(programmes: dict[str, Programme]) -> dict[str, Versions]:
    """Versions of the initial load: every membership that exists before the first day."""
    return {
        name: Versions(rows, p.level[rows], p.points[rows])
        for name, p in programmes.items()
        for rows in [np.flatnonzero(p.joined_day < 0)]
    }


def update(
    world: World,
    programmes: dict[str, Programme],
    first: int,
    end: int,
    orders: Orders,
    rng: np.random.Generator,
) -> dict[str, Versions]:
    """Earn on the month's completed orders, spend points, re-level; versions of what changed."""
    done = ~orders.cancelled & (orders.person >= 0)
    value = orders.paid * _CNY_PER_MINOR[orders.currency]
    ids = world.identities
    out: dict[str, Versions] = {}
    for name, prog in programmes.items():
        if name == "pos_card":
            rows = np.flatnonzero(done & (orders.channel == POS) & (orders.record >= 0))
            member = prog.of_record[orders.record[rows]]
        else:
            channels = (APP, MINI) if name == "app_member" else (MINI,)
            rows = np.flatnonzero(done & np.isin(orders.channel, channels))
            who = orders.person[rows]
            record = ids.primary[prog.source][who]
            member = np.where(record >= 0, prog.of_record[np.maximum(record, 0)], -1)
            member[ids.created_day[prog.source][who] > orders.day[rows]] = -1
        live = member >= 0
        member, rows = member[live], rows[live]
        member[prog.joined_day[member] > orders.day[rows]] = -1
        rows, member = rows[member >= 0], member[member >= 0]
        n = len(prog.holder)
        earned = np.bincount(member, value[rows], minlength=n).astype(np.int64)
        before_points, before_level = prog.points.copy(), prog.level.copy()
        prog.spend += earned
        prog.points += earned // 100
        rich = np.flatnonzero((prog.points >= _REDEEM_STEP) & (rng.random(n) < 0.3))
        steps = rng.integers(1, prog.points[rich] // _REDEEM_STEP + 1)
        prog.points[rich] -= steps * _REDEEM_STEP
        prog.level = np.maximum(prog.level, _level(name, prog.spend))
        joined_now = (prog.joined_day >= first) & (prog.joined_day < end)
        changed = joined_now | (prog.points != before_points) | (prog.level != before_level)
        changed &= prog.joined_day < end
        rows_out = np.flatnonzero(changed)
        out[name] = Versions(rows_out, prog.level[rows_out], prog.points[rows_out])
    return out
