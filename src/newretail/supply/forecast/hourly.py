"""The intraday curve for prep (O1): each store's share of a weekday's units by local hour, from the
last eight weeks of ``dws.store_hour``, times the daily forecast.

A store with no hourly history yet borrows the chain's curve for that weekday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.config import Engine as EngineName
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.forecast.run import ForecastRun
from newretail.supply.history import Network
from newretail.supply.lake_reader import LakeReader, column_array

PROFILE_WEEKS = 8


@dataclass(frozen=True)
class HourlyForecast:
    profile: np.ndarray  # (S, 7, 24): share of the day's units per local hour, by weekday
    units: np.ndarray  # (H, S, 24)


def load_profile(
    lake: Lake, *, engine: EngineName, network: Network, origin: dt.date
) -> np.ndarray:
    """(S, 7, 24) hourly shares per store and weekday over the weeks up to ``origin``."""
    first = origin - dt.timedelta(days=7 * PROFILE_WEEKS - 1)
    units = np.zeros((len(network.store_ids), 7, 24))
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        if reader.has("dws", "store_hour"):
            hours = reader.table("dws", "store_hour")
            rows = reader.run(
                hours.filter((hours.business_date >= first) & (hours.business_date <= origin))
                .group_by(["store_id", "business_date", "business_hour"])
                .aggregate(items=hours["items"].sum()),
                "hourly sales",
            )
            index = {s: i for i, s in enumerate(network.store_ids)}
            store = np.array([index.get(str(s), -1) for s in rows.column("store_id").to_pylist()])
            dates = column_array(rows, "business_date").astype(np.int64)
            weekday = (dates + 3) % 7
            hour = column_array(rows, "business_hour").astype(np.int64)
            items = np.nan_to_num(column_array(rows, "items").astype(float))
            keep = (store >= 0) & (hour >= 0) & (hour < 24)
            np.add.at(units, (store[keep], weekday[keep], hour[keep]), items[keep])
    return shares(units)


def shares(units: np.ndarray) -> np.ndarray:
    """Normalise (S, 7, 24) unit counts to shares per store and weekday; empty rows take the
    chain's curve for the weekday (or a flat day if the chain has none either)."""
    chain = units.sum(axis=0)  # (7, 24)
    chain_total = chain.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        chain_share = np.where(chain_total > 0, chain / np.maximum(chain_total, 1e-12), 1 / 24)
        total = units.sum(axis=2, keepdims=True)
        result: np.ndarray = np.where(
            total > 0, units / np.maximum(total, 1e-12), chain_share[None, :, :]
        )
    return result


def hourly_forecast(run: ForecastRun, profile: np.ndarray) -> HourlyForecast:
    """Spread each store's daily forecast over the hours by its weekday curve."""
    daily = run.product_mean.sum(axis=2)  # (H, S)
    weekday = (run.dates().astype(np.int64) + 3) % 7  # (H,)
    curve = profile[:, weekday, :].transpose(1, 0, 2)  # (H, S, 24)
    return HourlyForecast(profile=profile, units=daily[:, :, None] * curve)
