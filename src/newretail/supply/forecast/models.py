"""The candidate demand models, each turning a panel into daily means per store and product (H, S, P).

- ``seasonal_naive``: the same weekday last week, the benchmark every other model must beat.
- ``ets_share``: statsforecast's AutoETS (weekly season, no trend) on each store's daily total,
  split over products by their recent share of the store's sales.
- ``lightgbm``: one global LightGBM model over every store and product through mlforecast, with
  lags, weekday, holidays, Lunar New Year, weather, product age and promotions (coupons live
  in the store's customers' hands) as features (Poisson loss, since
  the target is a count).
- ``ensemble``: the mean of the last two.
The backtest decides per level which one serves.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from newretail.errors import InvalidInput
from newretail.supply.forecast.panel import Panel

SHARE_DAYS = 28
Model = Callable[[Panel], np.ndarray]


def seasonal_naive(panel: Panel) -> np.ndarray:
    """Day origin+h repeats the same weekday of the last week of history."""
    t, h = panel.history_days, panel.horizon
    source = t - 7 + (np.arange(h) % 7)
    forecast = panel.demand[source]
    return np.where(panel.on_sale[t:], forecast, 0.0)


def ets_share(panel: Panel) -> np.ndarray:
    """AutoETS on store totals (statsforecast), shared out by each product's recent share."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    h = panel.horizon
    totals = panel.demand.sum(axis=2)  # (T, S)
    n_stores = totals.shape[1]
    trading = [s for s in range(n_stores) if totals[:, s].sum() > 0]
    store_forecast = np.zeros((h, n_stores))
    if trading:
        frame = _long(totals[:, trading], trading)
        # No trend component: over a two-week horizon the level adapts to growth as well, and
        # searching trends as well made the fit about five times slower for the same accuracy.
        model = StatsForecast(models=[AutoETS(season_length=7, model="ZNZ")], freq=1, n_jobs=1)
        result = model.forecast(df=frame, h=h)
        values = result["AutoETS"].to_numpy().reshape(len(trading), h)
        store_forecast[:, trading] = np.maximum(values.T, 0.0)
    split: np.ndarray = store_forecast[:, :, None] * _shares(panel)
    return split


def _shares(panel: Panel) -> np.ndarray:
    """(H, S, P): each product's share of its store's recent sales, among products on sale that day.

    A product launched inside the window is measured over its own days, so a new item is not
    diluted by the weeks before it existed.
    """
    t = panel.history_days
    recent = panel.demand[t - SHARE_DAYS : t]  # (W, S, P)
    selling = panel.on_sale[t - SHARE_DAYS : t]
    days_on = selling.sum(axis=0)  # (S, P)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(days_on > 0, recent.sum(axis=0) / np.maximum(days_on, 1), 0.0)
    future = panel.on_sale[t:] * rate[None, :, :]  # (H, S, P)
    total = future.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares: np.ndarray = np.where(total > 0, future / np.maximum(total, 1e-12), 0.0)
    return shares


def _long(values: np.ndarray, ids: list[int]) -> pd.DataFrame:
    """A (T, N) array as statsforecast's long frame: unique_id, ds (day number), y."""
    t, n = values.shape
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.array(ids), t),
            "ds": np.tile(np.arange(t), n),
            "y": values.T.reshape(-1),
        }
    )


def lightgbm(panel: Panel) -> np.ndarray:
    """One LightGBM model over all store-product series, predicted recursively over the horizon."""
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean, SeasonalRollingMean

    from newretail.supply.forecast.gbm import features_frame, regressor

    t, h = panel.history_days, panel.horizon
    train, future, alive = features_frame(panel)
    if train.empty or not len(alive):
        return np.zeros((h, *panel.demand.shape[1:]))
    forecaster = MLForecast(
        models={"lgbm": regressor()},
        freq=1,
        # Lags of a week or more: within the first week nothing is predicted from predictions,
        # so one odd day (a holiday) does not drag the rest of the horizon with it.
        lags=[7, 14, 21, 28],
        lag_transforms={
            7: [
                RollingMean(window_size=7),
                RollingMean(window_size=28),
                SeasonalRollingMean(season_length=7, window_size=4),
            ],
        },
        num_threads=1,
    )
    with warnings.catch_warnings():
        # Lags are missing in a series' first weeks by design: LightGBM handles missing values.
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        forecaster.fit(train, static_features=["store_format", "category"], dropna=False)
        predicted = forecaster.predict(h=h, X_df=future, ids=list(alive))
    n_products = panel.demand.shape[2]
    result = np.zeros((h, *panel.demand.shape[1:]))
    series = predicted["unique_id"].to_numpy()
    step = predicted["ds"].to_numpy() - t
    result[step, series // n_products, series % n_products] = np.maximum(
        predicted["lgbm"].to_numpy(), 0.0
    )
    return np.where(panel.on_sale[t:], result, 0.0)


REGISTRY: dict[str, Model] = {
    "seasonal_naive": seasonal_naive,
    "ets_share": ets_share,
    "lightgbm": lightgbm,
}
# Combinations average their members' forecasts: the tree model lags a growing trend while ETS
# overshoots around holidays, so their errors partly cancel.
ENSEMBLES: dict[str, tuple[str, ...]] = {"ensemble": ("ets_share", "lightgbm")}
MODELS = (*REGISTRY, *ENSEMBLES)


def forecast_models(panel: Panel, models: tuple[str, ...] | list[str]) -> dict[str, np.ndarray]:
    """Each named model's (H, S, P) forecast; an ensemble's members are computed once."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InvalidInput("forecast.unknown_model", f"unknown model {unknown[0]}", field="models")
    needed = {b for m in models for b in ENSEMBLES.get(m, (m,))}
    base = {m: REGISTRY[m](panel) for m in REGISTRY if m in needed}
    return {
        m: np.mean([base[b] for b in ENSEMBLES[m]], axis=0) if m in ENSEMBLES else base[m]
        for m in models
    }
