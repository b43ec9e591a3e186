"""Known-in-advance day features per store: weekday, public holiday (by the store's country, from the
``holidays`` package) and weather, on any run of days including the forecast horizon.

Weather after the last reported day is unknown: the horizon gets the city's mean of the last four
weeks (a persistence forecast), so a backtest never sees weather it could not have had.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import holidays
import numpy as np

from newretail.supply.history import Network, Weather

_WEATHER_MEMORY_DAYS = 28
_LNY_WINDOW = 10


@dataclass(frozen=True)
class DayFeatures:
    """Per day (axis 0) and store (axis 1)."""

    weekday: np.ndarray  # int (D, S) 0 = Monday
    holiday: np.ndarray  # int (D, S) 0 = working day, else a code per kind of holiday
    lunar_new_year: np.ndarray  # int (D, S) days from the nearest Lunar New Year, clipped
    temp_c: np.ndarray  # float (D, S), NaN where unknown
    rain: np.ndarray  # float (D, S): 1, 0, or the recent rain share on horizon days


@lru_cache(maxsize=32)
def _holidays(country: str, year: int) -> dict[dt.date, str]:
    try:
        calendar = holidays.country_holidays(country, years=year, language="en_US")
    except NotImplementedError:
        return {}
    return {day: str(name) for day, name in calendar.items()}


def holiday_names(country: str, dates: np.ndarray) -> list[str]:
    """The public holiday on each date in ``country`` ('' on a working day)."""
    names = []
    for value in dates.astype("datetime64[D]").tolist():
        names.append(_holidays(country, value.year).get(value, ""))
    return names


def holiday_kind(name: str) -> str:
    """The kind of day a holiday name stands for: "Labor Day (observed)" is a Labor Day, and every
    "Day off (substituted from ...)" is one kind, so the model sees few kinds with many examples."""
    first = name.split(";")[0].strip()
    if first.lower().startswith("day off"):
        return "day off"
    return re.sub(r"\s*\(.*?\)", "", first).strip().lower()


def holiday_code(name: str) -> int:
    """A stable small integer per kind of holiday (a categorical feature), 0 on a working day."""
    if not name:
        return 0
    kind = holiday_kind(name)
    return 1 + sum(ord(c) * (i + 1) for i, c in enumerate(kind)) % 997


def lunar_new_year_offset(country: str, dates: np.ndarray) -> np.ndarray:
    """Days from the nearest Lunar New Year's day (its shops close and offices empty for a week
    around it), clipped to +-_LNY_WINDOW; the holiday flags alone cover only the official days."""
    years = sorted({d.year for d in dates.astype("datetime64[D]").tolist()})
    starts = [
        day
        for year in range(years[0] - 1, years[-1] + 2)
        for day, name in _holidays(country, year).items()
        if "new year" in name.lower()
        and ("chinese" in name.lower() or "lunar" in name.lower())
        and "eve" not in name.lower()
    ]
    offset = np.full(len(dates), _LNY_WINDOW, dtype=np.int64)
    if not starts:
        return offset
    firsts = np.array(sorted({s for s in starts if s - dt.timedelta(days=1) not in starts}))
    day_numbers = dates.astype("datetime64[D]").astype(np.int64)
    first_numbers = firsts.astype("datetime64[D]").astype(np.int64)
    diff = day_numbers[:, None] - first_numbers[None, :]
    nearest = diff[np.arange(len(dates)), np.abs(diff).argmin(axis=1)]
    clipped: np.ndarray = np.clip(nearest, -_LNY_WINDOW, _LNY_WINDOW)
    return clipped


def day_features(
    network: Network,
    weather: Weather | None,
    first: dt.date,
    days: int,
    *,
    known_days: int,
) -> DayFeatures:
    """Features for ``days`` days from ``first``; weather is known only for the first ``known_days``."""
    dates = np.datetime64(first, "D") + np.arange(days)
    n_stores = len(network.store_ids)
    weekday = ((dates.astype(np.int64) + 3) % 7)[:, None].repeat(n_stores, axis=1)
    holiday = np.zeros((days, n_stores), dtype=np.int64)
    lunar = np.full((days, n_stores), _LNY_WINDOW, dtype=np.int64)
    for country in np.unique(network.store_country):
        codes = np.array([holiday_code(n) for n in holiday_names(str(country), dates)])
        holiday[:, network.store_country == country] = codes[:, None]
        lunar[:, network.store_country == country] = lunar_new_year_offset(str(country), dates)[
            :, None
        ]
    temp = np.full((days, n_stores), np.nan)
    rain = np.full((days, n_stores), np.nan)
    if weather is not None:
        temp, rain = _store_weather(network, weather, first, days, known_days)
    return DayFeatures(weekday, holiday, lunar, temp, rain)


def _store_weather(
    network: Network, weather: Weather, first: dt.date, days: int, known_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each store's city weather; days past ``known_days`` get the recent mean (persistence)."""
    n_stores = len(network.store_ids)
    temp = np.full((days, n_stores), np.nan)
    rain = np.full((days, n_stores), np.nan)
    city_index = {c: i for i, c in enumerate(weather.cities)}
    known = min(known_days, weather.temp_c.shape[0], days)
    for s, city in enumerate(network.store_city):
        c = city_index.get(str(city))
        if c is None:
            continue
        temp[:known, s] = weather.temp_c[:known, c]
        rain[:known, s] = weather.rain[:known, c]
        recent = slice(max(0, known - _WEATHER_MEMORY_DAYS), known)
        if known:
            with np.errstate(invalid="ignore"):
                temp[known:, s] = np.nanmean(weather.temp_c[recent, c])
                rain[known:, s] = np.nanmean(weather.rain[recent, c])
    return temp, rain
