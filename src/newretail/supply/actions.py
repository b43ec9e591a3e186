"""The supply jobs the CLI, the demo and the API start: forecast, plan tomorrow's orders, simulate.

Each reads the lake through the configured engine and takes its clock from the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as SqlEngine

from newretail.config import Engine as EngineName
from newretail.errors import NoData
from newretail.lake.storage import Lake
from newretail.progress import Progress
from newretail.supply.forecast.hourly import hourly_forecast, load_profile
from newretail.supply.forecast.publish import (
    PublishedRun,
    latest_run,
    load_material_forecast,
    publish,
)
from newretail.supply.forecast.run import ForecastRun, run_forecast
from newretail.supply.history import History, load_history
from newretail.supply.network import NetworkPlan, NetworkProblem, greedy_network, plan_network
from newretail.supply.network_inputs import network_problem, transfer_problem
from newretail.supply.replenish.plan import DEFAULT_SERVICE_LEVEL, PlanDraft, plan_replenishment
from newretail.supply.replenish.plans import SavedPlan, save_plan
from newretail.supply.replenish.position import stock_at
from newretail.supply.simulate.reports import save_report
from newretail.supply.simulate.run import (
    DEFAULT_SERVICE_LEVELS,
    SimulationReport,
    simulate_policies,
)
from newretail.supply.transfers import (
    TransferPlan,
    TransferProblem,
    greedy_transfers,
    plan_transfers,
)


@dataclass(frozen=True)
class ForecastResult:
    run: ForecastRun
    published: PublishedRun


def forecast(
    lake: Lake,
    *,
    engine: EngineName,
    now: dt.datetime,
    origin: dt.date | None = None,
    horizon: int = 14,
    backtest_origins: int = 3,
    progress: Progress | None = None,
) -> ForecastResult:
    """Backtest, forecast from ``origin`` (default: the newest day of sales) and publish the run."""
    history = load_history(lake, engine=engine)
    run = run_forecast(
        history,
        origin=origin,
        horizon=horizon,
        backtest_origins=backtest_origins,
        progress=progress,
    )
    profile = load_profile(lake, engine=engine, network=history.network, origin=run.origin)
    published = publish(lake, history, run, hourly_forecast(run, profile), now=now)
    return ForecastResult(run, published)


def plan(
    lake: Lake,
    *,
    engine: EngineName,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    history: History | None = None,
) -> PlanDraft:
    """Tomorrow's orders for every store and DC from the newest published forecast."""
    published = _published(lake)
    history = history or load_history(lake, engine=engine, last=published.origin)
    materials = load_material_forecast(lake, history, published)
    horizon = materials.horizon
    network, goods = history.network, history.goods
    stores = stock_at(
        lake,
        engine=engine,
        goods=goods,
        location_type="store",
        location_ids=network.store_ids,
        as_of=published.origin,
        days_ahead=horizon,
    )
    warehouses = stock_at(
        lake,
        engine=engine,
        goods=goods,
        location_type="warehouse",
        location_ids=network.dc_ids,
        as_of=published.origin,
        days_ahead=horizon,
    )
    return plan_replenishment(
        history, materials, stores=stores, warehouses=warehouses, service_level=service_level
    )


@dataclass(frozen=True)
class TransferResult:
    plan: TransferPlan
    greedy: TransferPlan
    problem: TransferProblem


def transfers(lake: Lake, *, engine: EngineName, time_limit_s: float = 60.0) -> TransferResult:
    """Tonight's surplus-to-shortage moves between nearby stores, and the greedy baseline."""
    published = _published(lake)
    history = load_history(lake, engine=engine, last=published.origin)
    forecast = load_material_forecast(lake, history, published)
    stock = stock_at(
        lake,
        engine=engine,
        goods=history.goods,
        location_type="store",
        location_ids=history.network.store_ids,
        as_of=published.origin,
        days_ahead=forecast.horizon,
    )
    problem = transfer_problem(history, stock, forecast)
    return TransferResult(
        plan_transfers(problem, time_limit_s=time_limit_s), greedy_transfers(problem), problem
    )


@dataclass(frozen=True)
class NetworkResult:
    plan: NetworkPlan
    greedy: NetworkPlan
    problem: NetworkProblem


def network(lake: Lake, *, engine: EngineName, time_limit_s: float = 60.0) -> NetworkResult:
    """Which DC should serve which store, and whether a new DC would pay off within a year."""
    history = load_history(lake, engine=engine, days=28)
    problem = network_problem(history)
    return NetworkResult(
        plan_network(problem, time_limit_s=time_limit_s), greedy_network(problem), problem
    )


def plan_and_save(
    lake: Lake,
    database: SqlEngine,
    *,
    engine: EngineName,
    now: dt.datetime,
    service_level: float = DEFAULT_SERVICE_LEVEL,
) -> tuple[PlanDraft, SavedPlan]:
    """Plan tomorrow's orders and save them for planners to approve (idempotent per origin)."""
    published = _published(lake)
    history = load_history(lake, engine=engine, last=published.origin)
    draft = plan(lake, engine=engine, service_level=service_level, history=history)
    names = dict(
        zip(
            (str(m) for m in history.goods.material_ids),
            (str(n) for n in history.goods.material_names),
            strict=True,
        )
    )
    with database.begin() as conn:
        saved = save_plan(conn, draft, now=now, material_names=names)
    return draft, saved


def simulate(
    lake: Lake,
    *,
    engine: EngineName,
    truth_dir: Path,
    weeks: int,
    now: dt.datetime,
    service_levels: tuple[float, ...] = DEFAULT_SERVICE_LEVELS,
    currency: str = "CNY",
    backtest_origins: int = 2,
    progress: Progress | None = None,
) -> tuple[str, SimulationReport]:
    """Compare the policies over the last ``weeks`` weeks and save the report for the console."""
    history = load_history(lake, engine=engine)
    report = simulate_policies(
        lake,
        history,
        engine=engine,
        truth_dir=truth_dir,
        weeks=weeks,
        service_levels=service_levels,
        currency=currency,
        backtest_origins=backtest_origins,
        progress=progress,
    )
    return save_report(lake, report, now=now), report


def _published(lake: Lake) -> PublishedRun:
    published = latest_run(lake)
    if published is None:
        raise NoData(
            "supply.no_forecast", "no forecast is published: run `newretail supply forecast` first"
        )
    return published
