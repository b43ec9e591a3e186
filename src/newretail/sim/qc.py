"""Quality inspections: a few per store and month, with more findings where care and cold chains slip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.inventory import CONSUMPTION, WASTE
from newretail.sim.world import Month, World

FINDINGS = (
    "expired_material",
    "dirty_counter",
    "temperature_log_missing",
    "fridge_over_temperature",
    "pest_sign",
    "uniform_violation",
    "label_missing",
)
_BASE = np.array([0.08, 0.12, 0.06, 0.03, 0.01, 0.1, 0.08])
_PENALTY = np.array([9, 6, 6, 10, 20, 3, 4])
PASS_MARK = 80
_EXPIRY = 1  # waste reason index of expiry (inventory.WASTE_REASONS)


@dataclass(frozen=True)
class Inspections:
    store: np.ndarray
    inspected_s: np.ndarray
    inspector: np.ndarray  # staff number within the city's QC team
    score: np.ndarray
    findings: np.ndarray  # bool (n, len(FINDINGS))


def inspect(
    world: World,
    month: Month,
    sloppiness: np.ndarray,
    excursions_per_store: np.ndarray,
    movements: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> Inspections:
    stores = world.stores
    lo = np.maximum(stores.open_day, month.first)
    hi = np.minimum(stores.close_day, month.end)
    trading = np.maximum(hi - lo, 0)
    count = np.where(trading > 0, 1 + rng.poisson(1.5 * trading / 30), 0)
    store = np.repeat(np.arange(len(stores)), count)
    n = len(store)
    day = lo[store] + (rng.random(n) * trading[store]).astype(np.int64)
    hour = rng.integers(9, 18, n)
    local_midnight = world.epoch0 + day * 86400 - world.offset_s[store]
    inspected = local_midnight + hour * 3600 + rng.integers(0, 3600, n)
    waste = _expiry_share(world, movements)[store]
    hot = excursions_per_store[store] > 0
    p = _BASE[None, :] * (1 + 5 * sloppiness[store])[:, None]
    p[:, 0] *= 1 + 15 * waste
    p[:, 2] += 0.25 * hot
    p[:, 3] += 0.5 * hot
    findings = rng.random(p.shape) < np.minimum(p, 0.95)
    slip = np.abs(rng.normal(0, 3, n)).astype(np.int64)
    score = np.clip(100 - findings.astype(np.int64) @ _PENALTY - slip, 0, 100)
    inspector = stores.city[store] * 10 + rng.integers(1, 5, n)
    return Inspections(store, inspected, inspector, score, findings)


def _expiry_share(world: World, mv: dict[str, np.ndarray]) -> np.ndarray:
    """Per store: the month's expired stock as a share of what it used, both at cost."""
    cost = np.array([m.pack_cost_minor / m.pack_size for m in world.catalog.materials])
    n = len(world.stores)
    value = -mv["qty"] * cost[mv["material"]]
    expired = (mv["kind"] == WASTE) & (mv["reason"] == _EXPIRY)
    used = mv["kind"] == CONSUMPTION
    lost = np.bincount(mv["store"][expired], value[expired], minlength=n)
    spent = np.bincount(mv["store"][used], value[used], minlength=n)
    share: np.ndarray = lost / np.maximum(spent, 1.0)
    return share
