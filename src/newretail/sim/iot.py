"""Store devices: hourly fridge and freezer temperatures with excursions, espresso pressure by the hour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.footfall import OPEN_HOURS
from newretail.sim.world import Month, World

DEVICE_TYPES = ("fridge", "freezer", "espresso_machine")
FRIDGE, FREEZER, ESPRESSO = range(3)
_CODE = ("FR", "FZ", "ES")
SETPOINT = np.array([3.5, -18.0, 9.0])  # temperature_c, temperature_c, pressure_bar
_NOISE = np.array([0.4, 0.8, 0.15])
LIMIT = np.array([8.0, -12.0])  # a cold device reading above its limit is an excursion
EXCURSION_KINDS = ("door_open", "compressor_failure")
_ESPRESSO_MINUTES = (15, 45)


@dataclass(frozen=True)
class Devices:
    store: np.ndarray
    type: np.ndarray
    number: np.ndarray  # 1, 2, ... within the store and type
    second: np.ndarray  # second past the hour the device reports at
    sloppiness: np.ndarray  # per store (not per device): doors left open, maintenance skipped


@dataclass(frozen=True)
class Excursions:
    device: np.ndarray
    kind: np.ndarray
    start_s: np.ndarray  # the first reading inside (UTC, at the device's second past the hour)
    hours: np.ndarray  # readings inside
    limit: np.ndarray  # the device type's limit, exceeded by every reading inside
    peak: np.ndarray


@dataclass(frozen=True)
class Readings:
    device: np.ndarray
    read_s: np.ndarray
    value: np.ndarray


def build_devices(world: World, rng: np.random.Generator) -> Devices:
    """Flagships have two fridges and two espresso machines; every store one freezer."""
    fmt = world.stores.format
    count = np.column_stack([1 + (fmt == 0), np.ones(len(fmt), dtype=np.int64), 1 + (fmt == 0)])
    store, kind = np.nonzero(count)
    per = count[store, kind]
    store, kind = np.repeat(store, per), np.repeat(kind, per)
    first = np.r_[True, (store[1:] != store[:-1]) | (kind[1:] != kind[:-1])]
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(store)), 0))
    number = np.arange(len(store)) - run_start + 1
    # A few stores are careless: most excursions and findings happen there.
    sloppy = rng.beta(0.6, 4.0, len(fmt))
    return Devices(store, kind, number, rng.integers(0, 600, len(store)), sloppy)


def excursions(world: World, month: Month, dev: Devices, rng: np.random.Generator) -> Excursions:
    cold = np.flatnonzero(dev.type != ESPRESSO)
    care = dev.sloppiness[dev.store[cold]]
    span = month.end - month.first
    doors = rng.poisson(0.25 * (1 + 6 * care) * span / 30)
    fails = rng.poisson(0.03 * (1 + 20 * care) * span / 30)
    device = np.r_[np.repeat(cold, doors), np.repeat(cold, fails)]
    kind = np.r_[np.zeros(doors.sum(), dtype=np.int64), np.ones(fails.sum(), dtype=np.int64)]
    n = len(device)
    day = month.first + rng.integers(0, span, n)
    # Doors are left open while the store trades; a compressor fails at any hour.
    hour = np.where(kind == 0, rng.integers(8, 19, n), rng.integers(0, 24, n))
    hours = np.where(kind == 0, rng.integers(2, 5, n), rng.integers(6, 31, n))
    limit = LIMIT[dev.type[device]]
    peak = limit + np.where(kind == 0, 1.5, 4.0) + rng.uniform(0, 3, n)
    start = world.epoch0 + day * 86400 - world.offset_s[dev.store[device]] + hour * 3600
    start += dev.second[device]
    store = dev.store[device]
    trading = (world.stores.open_day[store] <= day) & (day + 2 < world.stores.close_day[store])
    month_end = world.epoch0 + month.end * 86400 - world.offset_s[store]
    keep = trading & (start + (hours - 1) * 3600 < month_end)
    return Excursions(device[keep], kind[keep], start[keep], hours[keep], limit[keep], peak[keep])


def readings(
    world: World, month: Month, dev: Devices, exc: Excursions, rng: np.random.Generator
) -> Readings:
    """Cold devices every hour of every trading day; espresso machines twice an opening hour."""
    stores = world.stores
    days = np.arange(month.first, month.end)
    trading = np.stack([stores.open_on(int(d)) for d in days])[:, dev.store]  # (D, devices)
    d_idx, device = np.nonzero(trading)
    cold = dev.type[device] != ESPRESSO
    hours_per = np.where(cold, 24, len(OPEN_HOURS) * len(_ESPRESSO_MINUTES))
    day = np.repeat(days[d_idx], hours_per)
    device = np.repeat(device, hours_per)
    slot = np.arange(len(day)) - np.repeat(np.cumsum(hours_per) - hours_per, hours_per)
    is_cold = dev.type[device] != ESPRESSO
    minute = np.array(_ESPRESSO_MINUTES)[slot % len(_ESPRESSO_MINUTES)]
    offset_in_day = np.where(
        is_cold,
        slot * 3600 + dev.second[device],
        (OPEN_HOURS[0] + slot // len(_ESPRESSO_MINUTES)) * 3600 + minute * 60,
    )
    read_s = world.epoch0 + day * 86400 - world.offset_s[dev.store[device]] + offset_in_day
    kind = dev.type[device]
    value = SETPOINT[kind] + rng.normal(0, 1, len(day)) * _NOISE[kind]
    # Excursion hours: the reading sits above the limit, climbing towards the peak.
    hit = _excursion_level(exc, device, read_s)
    value = np.where(np.isnan(hit), value, hit)
    return Readings(device, read_s, np.round(value, 2))


def _excursion_level(exc: Excursions, device: np.ndarray, read_s: np.ndarray) -> np.ndarray:
    """Per reading: its excursion temperature, NaN outside every excursion."""
    level = np.full(len(device), np.nan)
    if len(exc.device) == 0:
        return level
    owner = np.repeat(np.arange(len(exc.device)), exc.hours)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(exc.hours) - exc.hours, exc.hours)
    floor = exc.limit[owner] + 0.5
    temp = floor + (exc.peak[owner] - floor) * (step + 1) / exc.hours[owner]
    key = exc.device[owner] * 2**33 + exc.start_s[owner] + step * 3600
    order = np.argsort(key, kind="stable")
    key, temp = key[order], temp[order]
    reading_key = device * 2**33 + read_s
    pos = np.minimum(np.searchsorted(key, reading_key), len(key) - 1)
    found = key[pos] == reading_key
    level[found] = temp[pos[found]]
    return level
