"""Supply chain benchmark: forecast and replenishment speed at 500 stores, forecast accuracy and the
policy simulation against a generated chain's true demand.

Not a test. Two chains are generated, ingested and built once under bench/out/supply (reused while
their config is unchanged; about 30 min the first time):
* ``speed``: 500 stores, 150,000 members, 365 days: the forecast job and tomorrow's orders for every
  store and DC are timed on it (medians of ``--runs`` runs; the full job with its backtest once);
* ``accuracy``: 40 stores, 100,000 members (2,500 a store, so a store sells ~100+ units a day), 400
  days: rolling-origin backtests over the last ``--origins`` weeks are scored against the generator's
  true demand, and the last 8 weeks are replayed through the policies.
Beside the forecast, the obvious way: statsforecast's AutoETS fitted per store × product series
(timed on a sample of series and scaled to all of them). Writes the ``supply`` section of
bench/RESULTS.md. Run: ``.venv/bin/python bench/supply.py [--runs 3] [--origins 4]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from newretail.lake import Lake
from newretail.supply import actions
from newretail.supply.forecast.backtest import Backtest, origins_for, run_backtest
from newretail.supply.forecast.models import MODELS, forecast_models
from newretail.supply.forecast.panel import Panel, build_panel
from newretail.supply.history import History, load_history
from newretail.supply.simulate.run import BASELINE
from newretail.supply.simulate.twin import true_demand
from results import machine, update_section

WORK = Path(__file__).parent / "out" / "supply"
NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
HORIZON = 14
TARGET_FORECAST_S = 600
TARGET_PLAN_S = 60
TARGET_ACCURACY = 0.85
TARGET_NAIVE_GAIN = 0.15
TARGET_IN_STOCK = 0.98
TARGET_WASTE_CUT = 0.30
OBVIOUS_SAMPLE = 1_000
BASES = ("seasonal_naive", "ets_share", "lightgbm")


@dataclass(frozen=True)
class Chain:
    name: str
    members: int
    stores: int
    days: int
    seed: int
    start: str

    @property
    def home(self) -> Path:
        return WORK / self.name

    def label(self) -> str:
        return f"{self.stores} stores, {self.members:,} members, {self.days} days from {self.start}"


SPEED = Chain("speed", 150_000, 500, 365, 22, "2025-08-01")
ACCURACY = Chain("accuracy", 100_000, 40, 400, 21, "2025-07-01")


def ensure(chain: Chain) -> None:
    """Generate, ingest and build the chain unless a build of the same config is there."""
    marker = chain.home / "ready"
    config = json.dumps(chain.__dict__, sort_keys=True)
    if marker.exists() and marker.read_text() == config:
        return
    subprocess.run(["rm", "-rf", str(chain.home)], check=True)
    chain.home.mkdir(parents=True)
    cli = str(Path(sys.executable).with_name("newretail"))
    env = {**os.environ, "NEWRETAIL_HOME": str(chain.home)}
    steps = [
        [
            "generate",
            "--out",
            str(chain.home / "demo-chain"),
            "--members",
            str(chain.members),
            "--stores",
            str(chain.stores),
            "--days",
            str(chain.days),
            "--seed",
            str(chain.seed),
            "--start",
            chain.start,
        ],
        ["ingest", str(chain.home / "demo-chain" / "sources")],
        ["build"],
    ]
    for step in steps:
        subprocess.run([cli, *step], env=env, check=True, stdout=subprocess.DEVNULL)
    marker.write_text(config)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def speed(runs: int) -> list[str]:
    ensure(SPEED)
    lake = Lake(SPEED.home / "lake")
    load_s = [timed(lambda: load_history(lake, engine="duckdb")) for _ in range(runs)]
    history = load_history(lake, engine="duckdb")
    panel = build_panel(history, origin=history.sales.last, horizon=HORIZON)
    series = int(panel.on_sale[panel.history_days - 1].sum())
    model_s = {m: [timed(partial(forecast_models, panel, [m])) for _ in range(runs)] for m in BASES}
    job_s = statistics.median(
        timed(lambda: actions.forecast(lake, engine="duckdb", now=NOW, backtest_origins=3))
        for _ in range(runs)
    )
    plan_s = [timed(lambda: actions.plan(lake, engine="duckdb")) for _ in range(runs)]
    obvious = obvious_per_series(panel)
    n_products = len(history.goods.product_ids)
    scaled_s = job_s * 60 / n_products
    lines = [
        f"Chain **{SPEED.label()}**: {len(history.network.store_ids)} stores ×"
        f" {len(history.goods.product_ids)} products (the generator's whole menu; the target names 60),"
        f" {series:,} store × product series on sale, {panel.history_days} days of history.",
        "",
        "| step | median (s) | runs | target |",
        "| --- | ---: | ---: | --- |",
        f"| load history from the lake | {statistics.median(load_s):.1f} | {runs} | |",
    ]
    for m, values in model_s.items():
        lines.append(
            f"| fit + predict {m}, {HORIZON} days | {statistics.median(values):.1f} | {runs} | |"
        )
    lines += [
        f"| **forecast job** (`newretail supply forecast`: 3 backtest origins × {len(MODELS)} models,"
        f" the forecast, publish) | {job_s:.0f} | {runs} | ≤ {TARGET_FORECAST_S} s:"
        f" {'met' if job_s <= TARGET_FORECAST_S else 'MISSED'} |",
        f"| the forecast job scaled to 60 products (an upper bound: all of it grown by 60/"
        f"{n_products}, though ETS fits store totals) | {scaled_s:.0f} (est.) | |"
        f" ≤ {TARGET_FORECAST_S} s: {'met' if scaled_s <= TARGET_FORECAST_S else 'MISSED'} |",
        f"| **tomorrow's orders** for every store and DC (`newretail supply plan`) |"
        f" {statistics.median(plan_s):.1f} | {runs} | ≤ {TARGET_PLAN_S} s:"
        f" {'met' if statistics.median(plan_s) <= TARGET_PLAN_S else 'MISSED'} |",
        f"| the obvious way: AutoETS per series, {obvious[0]:,} of {series:,} series timed, scaled |"
        f" {obvious[1]:.0f} (est.) | 1 | |",
    ]
    return lines


def obvious_per_series(panel: Panel) -> tuple[int, float]:
    """AutoETS fitted per store × product series (statsforecast, 2 jobs) on a sample, scaled."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    t = panel.history_days
    store, product = np.nonzero(panel.on_sale[t - 1])
    total = len(store)
    pick = np.random.default_rng(0).choice(total, size=min(OBVIOUS_SAMPLE, total), replace=False)
    values = panel.demand[:, store[pick], product[pick]]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(pick)), t),
            "ds": np.tile(np.arange(t), len(pick)),
            "y": values.T.reshape(-1),
        }
    )
    seconds = timed(
        lambda: StatsForecast(models=[AutoETS(season_length=7)], freq=1, n_jobs=2).forecast(
            df=frame, h=HORIZON
        )
    )
    return len(pick), seconds * total / len(pick)


def accuracy(origins: int) -> tuple[list[str], Backtest, History]:
    ensure(ACCURACY)
    lake = Lake(ACCURACY.home / "lake")
    history = load_history(lake, engine="duckdb")
    truth_dir = ACCURACY.home / "demo-chain" / "truth"

    def truth(origin: dt.date, horizon: int) -> np.ndarray:
        return true_demand(
            truth_dir,
            store_ids=history.network.store_ids,
            product_ids=history.goods.product_ids,
            first=origin + dt.timedelta(days=1),
            days=horizon,
        )

    chosen = origins_for(history, horizon=HORIZON, count=origins)
    backtest = run_backtest(history, horizon=HORIZON, origins=chosen, actuals=truth)
    naive = backtest.mean_score("seasonal_naive", "store_product").wape
    lines = [
        f"Chain **{ACCURACY.label()}**; {len(chosen)} weekly origins {chosen[0]} … {chosen[-1]},"
        f" {HORIZON}-day horizon, every model scored against the generator's **true demand**"
        " (what customers wanted, before stock-outs).",
        "",
        "| model | level | accuracy (1 − WAPE) | bias | MASE | vs seasonal-naive WAPE |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for model in backtest.models:
        for level in ("chain", "store", "store_product"):
            s = backtest.mean_score(model, level)
            gain = 1 - s.wape / backtest.mean_score("seasonal_naive", level).wape
            lines.append(
                f"| {model} | {level} | {s.accuracy:.1%} | {s.bias:+.1%} | {s.mase:.2f} |"
                f" {gain:+.0%} |"
            )
    store_best = backtest.best("store")
    product_best = backtest.best("store_product")
    store_acc = backtest.mean_score(store_best, "store").accuracy
    gain = 1 - backtest.mean_score(product_best, "store_product").wape / naive
    lines += [
        "",
        f"- Store-day accuracy of the best model ({store_best}): **{store_acc:.1%}**, target ≥"
        f" {TARGET_ACCURACY:.0%}: {'met' if store_acc >= TARGET_ACCURACY else 'MISSED'}.",
        f"- Store × product-day WAPE of the best model ({product_best}) is **{gain:.0%}** better than"
        f" seasonal-naive, target ≥ {TARGET_NAIVE_GAIN:.0%}:"
        f" {'met' if gain >= TARGET_NAIVE_GAIN else 'MISSED'}.",
    ]
    return lines, backtest, history


def simulation(weeks: int) -> list[str]:
    lake = Lake(ACCURACY.home / "lake")
    start = time.perf_counter()
    _, report = actions.simulate(
        lake,
        engine="duckdb",
        truth_dir=ACCURACY.home / "demo-chain" / "truth",
        weeks=weeks,
        now=NOW,
    )
    seconds = time.perf_counter() - start
    base = report.row(BASELINE)
    lines = [
        f"{report.first} to {report.last} ({weeks} weeks), {report.stores} stores trading in"
        f" {report.currency}, true demand replayed; forecasts re-made weekly with"
        f" {report.forecast_model} from the history known each week; {seconds:.0f} s in all.",
        "",
        "| policy | core in stock | core stock-outs (store × day × material) | lost sales |"
        " waste (purchase cost) | waste vs baseline | avg stock value |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    core = int(load_history(lake, engine="duckdb", days=7).goods.is_core.sum())
    cells = report.stores * 7 * weeks * core
    for row in report.rows:
        vs = "—" if row.waste_vs_first is None else f"{row.waste_vs_first:+.0%}"
        outs = round((1 - row.in_stock_rate_core) * cells)
        lines.append(
            f"| {row.policy} | {row.in_stock_rate_core:.2%} | {outs:,} of {cells:,} |"
            f" {row.lost_sales_minor / 100:,.0f} |"
            f" {row.waste_cost_minor / 100:,.0f} | {vs} | {row.avg_inventory_value_minor / 100:,.0f} |"
        )
    qualifying = [
        r
        for r in report.rows[1:]
        if r.in_stock_rate_core >= max(TARGET_IN_STOCK, base.in_stock_rate_core)
        and r.waste_vs_first is not None
        and r.waste_vs_first <= -TARGET_WASTE_CUT
    ]
    verdict = (
        f"met by {', '.join(r.policy for r in qualifying)}"
        if qualifying
        else "MISSED: no forecast-driven variant matches the baseline's in-stock rate with 30% less"
        " waste"
    )
    lines += [
        "",
        f"Target: core in stock ≥ {TARGET_IN_STOCK:.0%} of store-days with ≥ {TARGET_WASTE_CUT:.0%}"
        f" less waste than {BASELINE} at equal or better in-stock rate: **{verdict}**.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--origins", type=int, default=4)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--part", choices=("accuracy", "simulation", "speed", "all"), default="all")
    args = parser.parse_args()
    stamp = (
        f"Machine: {machine()}. Written by `bench/supply.py` on {dt.datetime.now(dt.UTC).date()}."
    )
    parts: dict[str, tuple[str, Callable[[], list[str]]]] = {
        "accuracy": ("Supply chain: forecast accuracy", lambda: accuracy(args.origins)[0]),
        "simulation": ("Supply chain: policy simulation", lambda: simulation(args.weeks)),
        "speed": ("Supply chain: forecast and replenishment speed", lambda: speed(args.runs)),
    }
    for name, (title, run) in parts.items():
        if args.part not in (name, "all"):
            continue
        body = "\n".join([f"## {title}", "", stamp, "", *run()])
        update_section(f"supply-{name}", body)
        print(body)


if __name__ == "__main__":
    main()
