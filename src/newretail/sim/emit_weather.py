"""Writes the weather feed: one row per city and simulated day, from the calendar demand follows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.sim.geography import CITIES
from newretail.sim.text import dates, idx
from newretail.sim.world import Month, World
from newretail.sim.writers import Output


def write_weather(out: Output, world: World, month: Month) -> None:
    # Every city, not only those with a store yet: a feed reports its cities whatever the chain
    # does, and a store that opens later then already has its city's history.
    days = np.repeat(np.arange(month.first, month.end), len(CITIES))
    city = np.tile(np.arange(len(CITIES)), month.end - month.first)
    cal = world.calendar
    out.csv(
        "weather.daily",
        f"weather/daily/{month.label}.csv",
        {
            "obs_date": dates(world.start_epoch_day + days),
            "city": pa.array([c.name for c in CITIES]).take(idx(city)),
            "country_code": pa.array([c.country for c in CITIES]).take(idx(city)),
            "mean_temp_c": pa.array(cal.temp_c[days, city]),  # already in tenths of a degree
            "rain": pa.array(cal.rain[days, city]),
        },
    )
