"""Days of the simulation: holidays, weekdays and daily weather per city, as demand multipliers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.sim.geography import CITIES
from newretail.sim.rng import stream

# First day of the Spring Festival (lunar new year) by year; the holiday week starts the day before.
_SPRING_FESTIVAL = {
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}


def holiday_factor(country: str, day: dt.date) -> float:
    """Demand multiplier of a public holiday: offices empty at Spring Festival, leisure at others."""
    spring = _SPRING_FESTIVAL.get(day.year)
    if spring is not None and -1 <= (day - spring).days <= 6:
        return 0.45 if country == "CN" else 0.7
    if country == "CN":
        if day.month == 10 and day.day <= 7:  # National Day golden week
            return 0.8
        if day.month == 5 and day.day <= 5:  # Labour Day
            return 0.85
        if (day.month, day.day) == (1, 1):
            return 0.8
    elif (day.month, day.day) in ((1, 1), (8, 9), (12, 25)):
        return 0.85
    return 1.0


_WEEKDAY = np.array([1.0, 1.02, 1.03, 1.04, 1.08, 0.82, 0.75])


@dataclass(frozen=True)
class Calendar:
    """Per day (axis 0) and city (axis 1): demand factor, rain and temperature."""

    start: dt.date
    days: int
    factor: np.ndarray  # float64 (days, cities): holiday x weekday x weather, for walk-in demand
    rain: np.ndarray  # bool (days, cities)
    temp_c: np.ndarray  # float64 (days, cities)

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)


def build_calendar(seed: int, start: dt.date, days: int) -> Calendar:
    rng = stream(seed, "weather")
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    # Seasonal position: 0 in mid-January, 1 in mid-July.
    season = np.array(
        [(1 - np.cos(2 * np.pi * (d.timetuple().tm_yday - 15) / 365)) / 2 for d in dates]
    )
    jan_t = np.array([c.mean_temp_c[0] for c in CITIES])
    jul_t = np.array([c.mean_temp_c[1] for c in CITIES])
    jan_r = np.array([c.rain_share[0] for c in CITIES])
    jul_r = np.array([c.rain_share[1] for c in CITIES])
    temp = jan_t + np.outer(season, jul_t - jan_t) + rng.normal(0, 2.5, (days, len(CITIES)))
    rain = rng.random((days, len(CITIES))) < jan_r + np.outer(season, jul_r - jan_r)
    holiday = np.array([[holiday_factor(c.country, d) for c in CITIES] for d in dates])
    weekday = _WEEKDAY[[d.weekday() for d in dates]][:, None]
    # Rain keeps walk-ins home; extreme heat or cold does a little of the same.
    weather = np.where(rain, 0.85, 1.0) * np.where((temp > 35) | (temp < -5), 0.9, 1.0)
    return Calendar(start, days, holiday * weekday * weather, rain, np.round(temp, 1))
