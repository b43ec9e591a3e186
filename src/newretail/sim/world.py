"""Everything fixed before the first day: calendar, catalog, stores, persons, identities and months."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.sim.calendar import Calendar, build_calendar
from newretail.sim.catalog import Catalog, build_catalog
from newretail.sim.config import SimConfig
from newretail.sim.geography import CITIES
from newretail.sim.identity import Identities, build_identities
from newretail.sim.members import Persons, build_persons
from newretail.sim.stores import Stores, build_stores

EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Month:
    index: int
    label: str  # "2026-01", the name of the month's files
    first: int  # first day of the month inside the horizon (relative to the start)
    end: int  # one past the last day


@dataclass(frozen=True)
class World:
    config: SimConfig
    epoch0: int  # UTC epoch seconds of the start date at 00:00 UTC
    calendar: Calendar
    catalog: Catalog
    stores: Stores
    persons: Persons
    identities: Identities
    months: list[Month]
    offset_s: np.ndarray  # per store: UTC offset in seconds (local = UTC + offset)

    @property
    def start_epoch_day(self) -> int:
        return (self.config.start - EPOCH).days


def months_of(start: dt.date, days: int) -> list[Month]:
    months: list[Month] = []
    day = 0
    while day < days:
        date = start + dt.timedelta(days=day)
        following = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
        end = min(days, (following - start).days)
        months.append(Month(len(months), f"{date.year:04d}-{date.month:02d}", day, end))
        day = end
    return months


def build_world(config: SimConfig) -> World:
    from newretail.sim.geography import utc_offset_seconds

    months = months_of(config.start, config.days)
    stores = build_stores(config.seed, config.stores, config.days)
    persons = build_persons(
        config.seed, config.members, stores, config.days, [m.first for m in months]
    )
    epoch0 = (config.start - EPOCH).days * 86400
    offsets = np.array(
        [utc_offset_seconds(CITIES[c].timezone, config.start) for c in stores.city], dtype=np.int64
    )
    return World(
        config=config,
        epoch0=epoch0,
        calendar=build_calendar(config.seed, config.start, config.days),
        catalog=build_catalog(config.days),
        stores=stores,
        persons=persons,
        identities=build_identities(config.seed, persons, stores, config.days, epoch0),
        months=months,
        offset_s=offsets,
    )
