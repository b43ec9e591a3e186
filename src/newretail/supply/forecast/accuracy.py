"""Forecast accuracy at the three levels planners read it: chain-day, store-day, store × product-day.

- WAPE = sum |forecast - actual| / sum actual (accuracy is 1 - WAPE);
- bias = sum (forecast - actual) / sum actual (positive: over-forecast);
- MASE = per series, the mean absolute error over the horizon divided by the mean absolute error of
  the same-weekday-last-week forecast over the last eight weeks of history, averaged over the series that
  have such a scale (a MASE below 1 beats seasonal-naive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = ("chain", "store", "store_product")
_SCALE_DAYS = 56


@dataclass(frozen=True)
class Score:
    level: str
    wape: float
    bias: float
    mase: float
    actual_units: float

    @property
    def accuracy(self) -> float:
        return 1.0 - self.wape


def at_level(values: np.ndarray, level: str) -> np.ndarray:
    """(H, S, P) summed to the level's series: (H, 1), (H, S) or (H, S*P)."""
    if level == "chain":
        summed: np.ndarray = values.sum(axis=(1, 2))[:, None]
    elif level == "store":
        summed = values.sum(axis=2)
    else:
        summed = values.reshape(values.shape[0], -1)
    return summed


def score(forecast: np.ndarray, actual: np.ndarray, history: np.ndarray, *, level: str) -> Score:
    """Score (H, S, P) ``forecast`` against ``actual``; ``history`` (T, S, P) gives MASE's scale."""
    f, a = at_level(forecast, level), at_level(actual.astype(np.float64), level)
    total = float(a.sum())
    error = f - a
    wape = float(np.abs(error).sum() / total) if total else float("nan")
    bias = float(error.sum() / total) if total else float("nan")
    return Score(level, wape, bias, mase(f, a, at_level(history.astype(np.float64), level)), total)


def mase(forecast: np.ndarray, actual: np.ndarray, history: np.ndarray) -> float:
    """Mean over series of MAE / in-sample seasonal-naive MAE (series with a zero scale skipped)."""
    # The scale comes from the last eight weeks: a store or product that started trading late
    # would otherwise get a scale diluted by the months before it existed.
    recent = history[-_SCALE_DAYS:]
    if recent.shape[0] <= 7:
        return float("nan")
    scale = np.abs(recent[7:] - recent[:-7]).mean(axis=0)
    mae = np.abs(forecast - actual).mean(axis=0)
    usable = scale > 0
    if not usable.any():
        return float("nan")
    return float((mae[usable] / scale[usable]).mean())
