"""The newest forecast run's backtest as the console and the API show it: every model at every level
(chain, store, store × product), with its WAPE relative to seasonal-naive's, the serving model
marked."""

from __future__ import annotations

from dataclasses import dataclass

from newretail.lake.storage import Lake
from newretail.supply.forecast.accuracy import LEVELS
from newretail.supply.forecast.publish import PublishedRun
from newretail.supply.forecast.view_reads import ads_rows, newest_run

NAIVE = "seasonal_naive"


@dataclass(frozen=True)
class AccuracyRow:
    """A model at a level over the backtest origins; ``vs_naive`` is its WAPE relative to
    seasonal-naive's (-0.2 is 20% lower), None for seasonal-naive itself."""

    model: str
    level: str
    wape: float
    bias: float
    mase: float
    serving: bool
    vs_naive: float | None

    @property
    def accuracy(self) -> float:
        return 1.0 - self.wape


@dataclass(frozen=True)
class AccuracyTable:
    run: PublishedRun
    rows: tuple[AccuracyRow, ...]


def forecast_accuracy(lake: Lake) -> AccuracyTable:
    """The newest run's backtest: every model at every level, the serving model marked."""
    run = newest_run(lake)
    rows = ads_rows(
        lake,
        "forecast_accuracy",
        run.origin,
        columns=["model", "level", "wape", "bias", "mase", "serving"],
    ).to_pylist()
    naive = {r["level"]: r["wape"] for r in rows if r["model"] == NAIVE}
    order = {level: i for i, level in enumerate(LEVELS)}
    table = [
        AccuracyRow(
            model=str(r["model"]),
            level=str(r["level"]),
            wape=float(r["wape"]),
            bias=float(r["bias"]),
            mase=float(r["mase"]),
            serving=bool(r["serving"]),
            vs_naive=None
            if r["model"] == NAIVE or not naive.get(r["level"])
            else float(r["wape"]) / naive[r["level"]] - 1.0,
        )
        for r in rows
    ]
    table.sort(key=lambda r: (order.get(r.level, len(order)), r.model != NAIVE, r.model))
    return AccuracyTable(run, tuple(table))
