"""Forecast runs in the lake's ADS layer, one partition per origin date, and how readers find them.

Tables (partition ``origin=YYYY-MM-DD``):
- ``demand_forecast``: store × product × day, mean units and the 80% band;
- ``store_forecast``: store × day totals with their band (the store-level error, not a sum of
  product bands, since a store's products move together);
- ``material_forecast``: store × material × day in base units, mean, sigma and band;
- ``hourly_forecast``: store × day × local hour, units (the prep curve);
- ``forecast_accuracy``: the backtest, one row per model and level, the serving model marked.
A run is visible only once its manifest (``forecast_runs/<origin>.json``) is written, after every
partition has been swapped in, so a reader never mixes two runs or sees half of one.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from newretail.lake.storage import Lake, replacing
from newretail.supply.forecast.accuracy import LEVELS
from newretail.supply.forecast.hourly import HourlyForecast
from newretail.supply.forecast.run import ForecastRun, MaterialForecast
from newretail.supply.history import History

TABLES = (
    "demand_forecast",
    "store_forecast",
    "material_forecast",
    "hourly_forecast",
    "forecast_accuracy",
)
RUNS_DIR = "forecast_runs"
_KEEP_RUNS = 8


@dataclass(frozen=True)
class PublishedRun:
    """A run's manifest: what a reader needs before opening its partitions."""

    origin: dt.date
    horizon: int
    model: str
    created_at: dt.datetime
    product_dispersion: float
    store_dispersion: float
    material_dispersion: dict[str, float]
    backtest_origins: list[dt.date]
    rows: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin.isoformat(),
            "horizon": self.horizon,
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "product_dispersion": self.product_dispersion,
            "store_dispersion": self.store_dispersion,
            "material_dispersion": self.material_dispersion,
            "backtest_origins": [o.isoformat() for o in self.backtest_origins],
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublishedRun:
        return cls(
            origin=dt.date.fromisoformat(data["origin"]),
            horizon=int(data["horizon"]),
            model=str(data["model"]),
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            product_dispersion=float(data["product_dispersion"]),
            store_dispersion=float(data["store_dispersion"]),
            material_dispersion={k: float(v) for k, v in data["material_dispersion"].items()},
            backtest_origins=[dt.date.fromisoformat(o) for o in data["backtest_origins"]],
            rows={k: int(v) for k, v in data["rows"].items()},
        )


def publish(
    lake: Lake,
    history: History,
    run: ForecastRun,
    hourly: HourlyForecast,
    *,
    now: dt.datetime,
) -> PublishedRun:
    """Write every table of ``run`` for its origin, then its manifest; older runs beyond the
    newest eight are dropped."""
    tables = {
        "demand_forecast": _demand(history, run),
        "store_forecast": _stores(history, run),
        "material_forecast": _materials(history, run),
        "hourly_forecast": _hourly(history, run, hourly),
        "forecast_accuracy": _accuracy(run),
    }
    partition = {"origin": run.origin}
    with lake.writer(*(("ads", name) for name in TABLES)):
        staged = [lake.stage_partition("ads", n, partition, t) for n, t in tables.items()]
        for file in staged:
            file.publish()
        manifest = PublishedRun(
            origin=run.origin,
            horizon=run.horizon,
            model=run.model,
            created_at=now,
            product_dispersion=run.product_dispersion,
            store_dispersion=run.store_dispersion,
            material_dispersion={
                str(m): float(d)
                for m, d in zip(history.goods.material_ids, run.material_dispersion, strict=True)
            },
            backtest_origins=[o.origin for o in run.backtest.origins],
            rows={name: table.num_rows for name, table in tables.items()},
        )
        runs = lake.table_dir("ads", RUNS_DIR)
        runs.mkdir(parents=True, exist_ok=True)
        with replacing(runs / f"{run.origin.isoformat()}.json", suffix=".json") as handle:
            handle.write(json.dumps(manifest.as_json(), indent=2).encode())
        _prune(lake)
    return manifest


def published_runs(lake: Lake) -> list[PublishedRun]:
    """Every complete run, newest origin first."""
    runs = lake.table_dir("ads", RUNS_DIR)
    if not runs.exists():
        return []
    found = [PublishedRun.from_json(json.loads(p.read_text())) for p in runs.glob("*.json")]
    return sorted(found, key=lambda r: r.origin, reverse=True)


def latest_run(lake: Lake) -> PublishedRun | None:
    runs = published_runs(lake)
    return runs[0] if runs else None


def run_file(lake: Lake, table: str, origin: dt.date) -> Path:
    """The Parquet file of ``table`` for the run at ``origin`` (exists once the run is published)."""
    return lake.partition_file("ads", table, {"origin": origin})


def _prune(lake: Lake) -> None:
    runs = published_runs(lake)
    for old in runs[_KEEP_RUNS:]:
        (lake.table_dir("ads", RUNS_DIR) / f"{old.origin.isoformat()}.json").unlink()
        for name in TABLES:
            lake.delete_partition("ads", name, {"origin": old.origin})


def _table(columns: dict[str, np.ndarray]) -> pa.Table:
    return pa.table({name: pa.array(values) for name, values in columns.items()})


def _grid(shape: tuple[int, ...], keep: np.ndarray) -> tuple[np.ndarray, ...]:
    return np.nonzero(np.broadcast_to(keep, shape))


def _demand(history: History, run: ForecastRun) -> pa.Table:
    mean, sigma = run.product_mean, run.product_sigma
    h, s, p = _grid(mean.shape, mean > 0)
    lo, hi = run.band(mean[h, s, p], sigma[h, s, p])
    return _table(
        {
            "store_id": history.network.store_ids[s],
            "product_id": history.goods.product_ids[p],
            "business_date": run.dates()[h],
            "mean_units": mean[h, s, p],
            "lo80_units": lo,
            "hi80_units": hi,
            "model": np.full(len(h), run.model),
        }
    )


def _stores(history: History, run: ForecastRun) -> pa.Table:
    totals = run.product_mean.sum(axis=2)  # (H, S)
    h, s = _grid(totals.shape, totals > 0)
    mean = totals[h, s]
    lo, hi = run.band(mean, np.sqrt(run.store_dispersion * mean))
    return _table(
        {
            "store_id": history.network.store_ids[s],
            "business_date": run.dates()[h],
            "mean_units": mean,
            "lo80_units": lo,
            "hi80_units": hi,
        }
    )


def _materials(history: History, run: ForecastRun) -> pa.Table:
    mean, sigma = run.material_mean, run.material_sigma
    h, s, m = _grid(mean.shape, mean > 0)
    lo, hi = run.band(mean[h, s, m], sigma[h, s, m])
    return _table(
        {
            "location_id": history.network.store_ids[s],
            "material_id": history.goods.material_ids[m],
            "business_date": run.dates()[h],
            "mean_quantity": mean[h, s, m],
            "sigma_quantity": sigma[h, s, m],
            "lo80_quantity": lo,
            "hi80_quantity": hi,
        }
    )


def _hourly(history: History, run: ForecastRun, hourly: HourlyForecast) -> pa.Table:
    units = hourly.units  # (H, S, 24)
    h, s, hour = _grid(units.shape, units > 0)
    return _table(
        {
            "store_id": history.network.store_ids[s],
            "business_date": run.dates()[h],
            "business_hour": hour.astype(np.int8),
            "mean_units": units[h, s, hour],
        }
    )


def _accuracy(run: ForecastRun) -> pa.Table:
    rows = [
        {
            "model": model,
            "level": level,
            "wape": score.wape,
            "bias": score.bias,
            "mase": score.mase,
            "actual_units": score.actual_units,
            "serving": model == run.model,
            "origins": len(run.backtest.origins),
        }
        for model, levels in run.scores().items()
        for level, score in levels.items()
        if level in LEVELS
    ]
    return pa.Table.from_pylist(rows)


def load_material_forecast(lake: Lake, history: History, run: PublishedRun) -> MaterialForecast:
    """The published run's material demand on the history's store and material axes."""
    table = pq.read_table(run_file(lake, "material_forecast", run.origin))
    s_index = {str(s): i for i, s in enumerate(history.network.store_ids)}
    m_index = {str(m): i for i, m in enumerate(history.goods.material_ids)}
    shape = (run.horizon, len(s_index), len(m_index))
    mean, sigma = np.zeros(shape), np.zeros(shape)
    store = np.array([s_index.get(str(s), -1) for s in table.column("location_id").to_pylist()])
    material = np.array([m_index.get(str(m), -1) for m in table.column("material_id").to_pylist()])
    dates = table.column("business_date").to_numpy().astype("datetime64[D]")
    day = (dates - np.datetime64(run.origin, "D")).astype(np.int64) - 1
    keep = (store >= 0) & (material >= 0) & (day >= 0) & (day < run.horizon)
    cell = (day[keep], store[keep], material[keep])
    mean[cell] = table.column("mean_quantity").to_numpy()[keep]
    sigma[cell] = table.column("sigma_quantity").to_numpy()[keep]
    return MaterialForecast(run.origin, run.model, mean, sigma)
