"""One forecast run: backtest the candidates, forecast from the origin with the model that won at
store × product level, and derive material demand (through the bill of materials) with its
uncertainty, ready for replenishment and the console.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from newretail.progress import Progress, SilentProgress
from newretail.supply.forecast.accuracy import LEVELS, Score
from newretail.supply.forecast.backtest import Backtest, origins_for, run_backtest
from newretail.supply.forecast.models import MODELS, forecast_models
from newretail.supply.forecast.panel import build_panel
from newretail.supply.history import History
from newretail.supply.launch import with_launches

INTERVAL = 0.8  # the band charts show: 80% of days should fall inside it


@dataclass(frozen=True)
class MaterialForecast:
    """Material demand per store and day after ``origin``: what replenishment plans from."""

    origin: dt.date
    model: str
    mean: np.ndarray  # (H, S, M) base units
    sigma: np.ndarray  # (H, S, M)

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[0])


@dataclass(frozen=True)
class ForecastRun:
    origin: dt.date  # the last day of history; the forecast starts the day after
    horizon: int
    model: str  # serving model (best at store × product level in the backtest)
    product_mean: np.ndarray  # (H, S, P) units
    product_sigma: np.ndarray  # (H, S, P)
    material_mean: np.ndarray  # (H, S, M) base units
    material_sigma: np.ndarray  # (H, S, M)
    backtest: Backtest
    product_dispersion: float  # error variance per unit of forecast, store × product-day
    store_dispersion: float  # the same for a store's daily total
    material_dispersion: np.ndarray  # (M,)

    def dates(self) -> np.ndarray:
        return np.datetime64(self.origin, "D") + 1 + np.arange(self.horizon)

    def materials(self) -> MaterialForecast:
        return MaterialForecast(self.origin, self.model, self.material_mean, self.material_sigma)

    def scores(self) -> dict[str, dict[str, Score]]:
        return {
            m: {lv: self.backtest.mean_score(m, lv) for lv in LEVELS} for m in self.backtest.models
        }

    def band(self, mean: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The central ``INTERVAL`` band (normal approximation, floored at zero)."""
        z = NormalDist().inv_cdf(0.5 + INTERVAL / 2)
        return np.maximum(mean - z * sigma, 0.0), mean + z * sigma


def run_forecast(
    history: History,
    *,
    origin: dt.date | None = None,
    horizon: int = 14,
    backtest_origins: int = 3,
    models: Sequence[str] = MODELS,
    progress: Progress | None = None,
) -> ForecastRun:
    """Backtest ``models`` on ``backtest_origins`` weekly origins, then forecast from ``origin``."""
    origin = origin or history.sales.last
    panel = build_panel(history, origin=origin, horizon=horizon)
    limited = history_until(history, origin)
    origins = origins_for(limited, horizon=horizon, count=backtest_origins)
    task = (progress or SilentProgress()).task("backtest and forecast", len(origins) + 1)
    backtest = run_backtest(
        limited,
        horizon=horizon,
        origins=origins,
        models=models,
        on_origin=lambda _: task.advance(),
    )
    model = backtest.best("store_product")
    # New products launching inside the horizon have no history: their analogues' curves stand in.
    mean = with_launches(limited, origin, forecast_models(panel, [model])[model])
    mean = np.where(panel.on_sale[panel.history_days :], mean, 0.0)
    task.advance()
    bom = history.goods.bom.astype(np.float64)
    phi_product = backtest.level_dispersion(model, "store_product")
    phi_material = backtest.dispersion(model, bom)
    material_mean = mean @ bom
    return ForecastRun(
        origin=origin,
        horizon=horizon,
        model=model,
        product_mean=mean,
        product_sigma=np.sqrt(phi_product * mean),
        material_mean=material_mean,
        material_sigma=np.sqrt(phi_material[None, None, :] * material_mean),
        backtest=backtest,
        product_dispersion=phi_product,
        store_dispersion=backtest.level_dispersion(model, "store"),
        material_dispersion=phi_material,
    )


def history_until(history: History, origin: dt.date) -> History:
    """The history as it stood at ``origin``: backtests never peek past it."""
    t = (origin - history.sales.first).days + 1
    if t >= history.sales.days:
        return history
    sales = history.sales
    cut = type(sales)(sales.first, sales.units[:t], sales.censored[:t], sales.on_sale[:t])
    return History(history.network, history.goods, cut, history.weather, history.coupons)
