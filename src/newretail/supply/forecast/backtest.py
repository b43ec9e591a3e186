"""Rolling-origin backtests: every candidate model forecasts from several past origins, one week
apart, and is scored against what then happened at each level; the best model per level serves.

The errors also size the uncertainty: the variance of a daily forecast error is modelled as
``dispersion * mean`` (a count's variance grows with its mean), with the dispersion measured per
material on the backtest's material demand (product forecasts through the bill of materials).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from newretail.errors import InvalidInput
from newretail.supply.forecast.accuracy import LEVELS, Score, at_level, score
from newretail.supply.forecast.models import MODELS, forecast_models
from newretail.supply.forecast.panel import build_panel
from newretail.supply.history import History

Actuals = Callable[[dt.date, int], np.ndarray]


@dataclass(frozen=True)
class OriginResult:
    origin: dt.date
    forecasts: dict[str, np.ndarray]  # model -> (H, S, P)
    actual: np.ndarray  # (H, S, P)
    scores: dict[str, dict[str, Score]]  # model -> level -> score


@dataclass(frozen=True)
class Backtest:
    horizon: int
    models: tuple[str, ...]
    origins: list[OriginResult] = field(default_factory=list)

    def mean_score(self, model: str, level: str) -> Score:
        """Scores pooled over origins (sums of errors over sums of actuals; MASE averaged)."""
        rows = [o.scores[model][level] for o in self.origins]
        total = sum(r.actual_units for r in rows)
        wape = sum(r.wape * r.actual_units for r in rows) / total if total else float("nan")
        bias = sum(r.bias * r.actual_units for r in rows) / total if total else float("nan")
        mase = float(np.nanmean([r.mase for r in rows])) if rows else float("nan")
        return Score(level, wape, bias, mase, total)

    def best(self, level: str) -> str:
        """The model with the lowest pooled WAPE at ``level``."""
        return min(self.models, key=lambda m: self.mean_score(m, level).wape)

    def level_dispersion(self, model: str, level: str) -> float:
        """Error variance per unit of forecast at ``level`` (at least 1, a Poisson count's)."""
        squared = total = 0.0
        for o in self.origins:
            f = at_level(o.forecasts[model], level)
            squared += float(((f - at_level(o.actual.astype(np.float64), level)) ** 2).sum())
            total += float(f.sum())
        return max(1.0, squared / total) if total > 0 else 1.0

    def dispersion(self, model: str, bom: np.ndarray) -> np.ndarray:
        """(M,) error variance per unit of forecast material demand, from every origin."""
        squared = np.zeros(bom.shape[1])
        mean = np.zeros(bom.shape[1])
        for o in self.origins:
            f = o.forecasts[model] @ bom  # (H, S, M)
            a = o.actual.astype(np.float64) @ bom
            squared += ((f - a) ** 2).sum(axis=(0, 1))
            mean += f.sum(axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            phi = np.where(mean > 0, squared / np.maximum(mean, 1e-12), 1.0)
        result: np.ndarray = np.maximum(phi, 1.0)  # never tighter than a Poisson count
        return result


def origins_for(history: History, *, horizon: int, count: int) -> list[dt.date]:
    """``count`` weekly origins ending ``horizon`` days before the last day of sales."""
    last = history.sales.last - dt.timedelta(days=horizon)
    origins = [last - dt.timedelta(days=7 * k) for k in range(count)]
    usable = [o for o in origins if (o - history.sales.first).days + 1 >= max(28, 2 * horizon)]
    if not usable:
        raise InvalidInput(
            "forecast.horizon_beyond_data",
            f"{history.sales.days} days of sales are too few to backtest a {horizon}-day horizon",
            field="horizon",
        )
    return sorted(usable)


def run_backtest(
    history: History,
    *,
    horizon: int,
    origins: Sequence[dt.date],
    models: Sequence[str] = MODELS,
    actuals: Actuals | None = None,
    on_origin: Callable[[dt.date], None] | None = None,
) -> Backtest:
    """Forecast from each origin with each model; score against ``actuals`` (default: sales)."""
    result = Backtest(horizon, tuple(models))
    for origin in origins:
        panel = build_panel(history, origin=origin, horizon=horizon)
        t = panel.history_days
        actual = (
            history.sales.units[t : t + horizon] if actuals is None else actuals(origin, horizon)
        )
        forecasts = forecast_models(panel, list(models))
        scores = {
            m: {level: score(f, actual, panel.sold, level=level) for level in LEVELS}
            for m, f in forecasts.items()
        }
        result.origins.append(OriginResult(origin, forecasts, actual, scores))
        if on_origin is not None:
            on_origin(origin)
    return result
