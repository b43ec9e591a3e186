"""Forecasts as a planner would have had them during a simulated window: re-made every week from the
history known on that day (never a day later), with the model and error dispersion the backtest
chose at the window's start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.progress import Progress, SilentProgress
from newretail.supply.forecast.models import forecast_models
from newretail.supply.forecast.panel import build_panel
from newretail.supply.forecast.run import ForecastRun, history_until, run_forecast
from newretail.supply.history import History

REFIT_DAYS = 7


@dataclass(frozen=True)
class _Made:
    origin: dt.date
    mean: np.ndarray  # (H, S, M) material demand from origin + 1
    sigma: np.ndarray


class RollingForecasts:
    """A :class:`ForecastProvider` for day indices of a window starting on ``first``."""

    def __init__(
        self,
        history: History,
        *,
        first: dt.date,
        days: int,
        stores: np.ndarray,
        horizon: int = 14,
        backtest_origins: int = 2,
        progress: Progress | None = None,
    ) -> None:
        self.first, self.stores = first, stores
        origins = [
            first - dt.timedelta(days=1) + dt.timedelta(days=k) for k in range(0, days, REFIT_DAYS)
        ]
        task = (progress or SilentProgress()).task("weekly forecasts", len(origins))
        start = run_forecast(
            history_until(history, origins[0]),
            origin=origins[0],
            horizon=horizon,
            backtest_origins=backtest_origins,
        )
        self.model = start.model
        self.first_run: ForecastRun = start
        bom = history.goods.bom.astype(np.float64)
        made = [_Made(origins[0], start.material_mean, start.material_sigma)]
        task.advance()
        for origin in origins[1:]:
            panel = build_panel(history_until(history, origin), origin=origin, horizon=horizon)
            mean = forecast_models(panel, [self.model])[self.model] @ bom
            sigma = np.sqrt(start.material_dispersion[None, None, :] * mean)
            made.append(_Made(origin, mean, sigma))
            task.advance()
        self.made = made

    def __call__(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sigma) (S, M, H') for days after window day ``day``, from the newest forecast
        made on or before it."""
        today = self.first + dt.timedelta(days=day)
        run = max((m for m in self.made if m.origin <= today), key=lambda m: m.origin)
        offset = (today - run.origin).days
        mean = run.mean[offset:, self.stores].transpose(1, 2, 0)
        sigma = run.sigma[offset:, self.stores].transpose(1, 2, 0)
        return mean, sigma
