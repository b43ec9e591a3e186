"""The LightGBM model's frames: one row per store, product and day on sale, with the day's known
features (weekday, holiday, Lunar New Year distance, weather, product age, live coupons) and two static ones
(store format, product category); the series id is ``store * P + product``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor

from newretail.supply.forecast.panel import Panel


def regressor() -> LGBMRegressor:
    # Poisson loss fits counts (many zeros, variance growing with the mean); a fixed seed and a
    # fixed number of trees keep forecasts reproducible. Half as many trees at twice the rate and
    # 63 histogram bins train about twice as fast on 500 stores with the same accuracy.
    return LGBMRegressor(
        objective="poisson",
        n_estimators=125,
        learning_rate=0.1,
        max_bin=63,
        num_leaves=63,
        min_child_samples=100,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=0,
        n_jobs=2,
        verbose=-1,
    )


def features_frame(panel: Panel) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(training rows, horizon rows, ids of the series to predict: on sale on the origin day)."""
    t, h = panel.history_days, panel.horizon
    n_products = panel.demand.shape[2]
    day, store, product = np.nonzero(panel.on_sale[:t])
    train = pd.DataFrame(
        {
            "unique_id": store * n_products + product,
            "ds": day,
            "y": panel.demand[day, store, product],
            **_dynamic(panel, day, store, product),
            "store_format": panel.store_format[store],
            "category": panel.category[product],
        }
    ).sort_values(["unique_id", "ds"], kind="stable")
    alive_store, alive_product = np.nonzero(panel.on_sale[t - 1])
    alive = alive_store * n_products + alive_product
    f_day = np.repeat(np.arange(t, t + h), len(alive))
    f_store = np.tile(alive_store, h)
    f_product = np.tile(alive_product, h)
    future = pd.DataFrame(
        {
            "unique_id": np.tile(alive, h),
            "ds": f_day,
            **_dynamic(panel, f_day, f_store, f_product),
        }
    )
    return train.reset_index(drop=True), future, alive


def _dynamic(
    panel: Panel, day: np.ndarray, store: np.ndarray, product: np.ndarray
) -> dict[str, np.ndarray | pd.Categorical]:
    f = panel.features
    # The kind of holiday is a category: a kind never seen in training (the first Mid-Autumn in
    # the data) falls with ordinary days instead of borrowing a neighbouring code's effect.
    kinds = np.unique(f.holiday)
    return {
        "weekday": f.weekday[day, store],
        "holiday": pd.Categorical(f.holiday[day, store], categories=kinds),
        "lunar_new_year": f.lunar_new_year[day, store],
        "temp_c": f.temp_c[day, store],
        "rain": f.rain[day, store],
        "age": panel.product_age[day, product],
        "promotions": panel.promotions[day, store],
    }
