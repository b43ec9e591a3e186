"""The nightly supply run after the lake's build: forecast the newest day (once per day of sales),
save tomorrow's orders for planners, raise the alerts, and, on a generated chain, compare the
policies over the last four weeks (once per window). Re-running it the same night changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as SqlEngine

from newretail.config import Engine as EngineName
from newretail.lake.storage import Lake
from newretail.progress import Progress
from newretail.security.pii import PiiProtector
from newretail.supply import actions
from newretail.supply.alerts.run import AlertReport, run_alerts
from newretail.supply.forecast.publish import PublishedRun, latest_run
from newretail.supply.history import load_history
from newretail.supply.replenish.plans import SavedPlan
from newretail.supply.simulate.reports import load_reports

SIMULATED_WEEKS = 4


@dataclass(frozen=True)
class NightlyResult:
    forecast: PublishedRun
    forecast_made: bool
    plan: SavedPlan
    order_lines: int
    alerts: AlertReport
    simulation: str | None  # the saved report's id; None without ground truth


def run_nightly(
    lake: Lake,
    database: SqlEngine,
    *,
    engine: EngineName,
    now: dt.datetime,
    protector: PiiProtector,
    truth_dir: Path | None = None,
    backtest_origins: int = 2,
    progress: Progress | None = None,
) -> NightlyResult:
    newest = load_history(lake, engine=engine, days=7).sales.last
    published = latest_run(lake)
    made = published is None or published.origin != newest
    if published is None or made:
        published = actions.forecast(
            lake, engine=engine, now=now, backtest_origins=backtest_origins, progress=progress
        ).published
    draft, saved = actions.plan_and_save(lake, database, engine=engine, now=now)
    # Webhook sends and their retries never hold a database transaction open.
    alerts = run_alerts(
        lake, engine, database, as_of=published.origin, now=now, protector=protector
    )
    simulation = None
    if truth_dir is not None and (truth_dir / "demand.parquet").exists():
        done = {r.last: ident for ident, _, r in load_reports(lake)}
        simulation = done.get(published.origin)
        if simulation is None:
            simulation, _ = actions.simulate(
                lake,
                engine=engine,
                truth_dir=truth_dir,
                weeks=SIMULATED_WEEKS,
                now=now,
                backtest_origins=backtest_origins,
                progress=progress,
            )
    return NightlyResult(published, made, saved, len(draft.orders()), alerts, simulation)
