"""``newretail supply …``: forecast demand, propose tomorrow's orders, compare policies in simulation.
Thin: each command calls ``newretail.supply.actions``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newretail.cli.errors import reports_errors
from newretail.cli.progress import progress_bars
from newretail.config import get_settings
from newretail.errors import InvalidInput

supply_app = typer.Typer(
    help="Supply chain: demand forecasts, replenishment proposals, policy simulation.",
    no_args_is_help=True,
)
console = Console(highlight=False)


def _day(option: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("cli.bad_date", f"{option} must be YYYY-MM-DD", field=option) from None


@supply_app.command("forecast")
@reports_errors
def forecast_command(
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Last day of history, YYYY-MM-DD (default: the newest)."),
    ] = None,
    horizon: Annotated[int, typer.Option(help="Days to forecast (1-56).")] = 14,
    backtests: Annotated[
        int, typer.Option(min=1, max=8, help="Weekly backtest origins to choose the model on.")
    ] = 3,
) -> None:
    """Backtest the models, forecast demand per store × product and material, publish the run."""
    from newretail.lake import Lake
    from newretail.supply.actions import forecast

    settings = get_settings()
    with progress_bars(console) as progress:
        result = forecast(
            Lake(settings.lake_dir),
            engine=settings.engine,
            now=dt.datetime.now(dt.UTC),
            origin=_day("--origin", origin),
            horizon=horizon,
            backtest_origins=backtests,
            progress=progress,
        )
    table = Table(title=f"Backtest over {len(result.run.backtest.origins)} origins (vs sales)")
    for column in ("model", "level", "accuracy (1-WAPE)", "bias", "MASE"):
        table.add_column(column)
    for model, levels in result.run.scores().items():
        for level, score in levels.items():
            mark = " *" if model == result.run.model else ""
            table.add_row(
                model + mark,
                level,
                f"{score.accuracy:.1%}",
                f"{score.bias:+.1%}",
                f"{score.mase:.2f}",
            )
    console.print(table)
    rows = ", ".join(f"{n:,} {t}" for t, n in result.published.rows.items())
    console.print(
        f"published the forecast from {result.run.origin} for {result.run.horizon} days with"
        f" {result.run.model} (* best at store × product level): {rows}"
    )


@supply_app.command("plan")
@reports_errors
def plan_command(
    service_level: Annotated[
        float,
        typer.Option(
            min=0.5, max=0.9999, help="Chance of not running out before the next delivery."
        ),
    ] = 0.98,
) -> None:
    """Propose tomorrow's orders for every store and DC from the newest published forecast."""
    from newretail.lake import Lake
    from newretail.supply.actions import plan

    settings = get_settings()
    draft = plan(Lake(settings.lake_dir), engine=settings.engine, service_level=service_level)
    orders = draft.orders()
    stores = sum(1 for line in orders if line.location_type == "store")
    cost = sum(line.packs * line.pack_cost_minor for line in orders)
    console.print(
        f"plan for the close of {draft.origin} at service level {service_level:.1%}:"
        f" {len(orders):,} order lines ({stores:,} from stores, {len(orders) - stores:,} from DCs),"
        f" cost {cost / 100:,.2f} CNY"
    )


@supply_app.command("simulate")
@reports_errors
def simulate_command(
    weeks: Annotated[int, typer.Option(min=1, max=26, help="Weeks to replay (the newest).")] = 4,
    service_level: Annotated[
        list[float] | None,
        typer.Option("--service-level", help="Service levels of the forecast-driven policy."),
    ] = None,
    currency: Annotated[str, typer.Option(help="Simulate the stores trading in it.")] = "CNY",
    truth: Annotated[
        Path | None,
        typer.Option(help="The generated chain's truth folder (default: the demo chain's)."),
    ] = None,
) -> None:
    """Replay the twin's true demand through the policies and compare them side by side."""
    from newretail.lake import Lake
    from newretail.supply.actions import simulate
    from newretail.supply.simulate.run import DEFAULT_SERVICE_LEVELS

    settings = get_settings()
    levels = tuple(service_level) if service_level else DEFAULT_SERVICE_LEVELS
    for level in levels:
        if not 0.5 < level < 1:
            raise InvalidInput(
                "cli.bad_service_level",
                "a service level is between 0.5 and 1",
                field="service_level",
            )
    with progress_bars(console) as progress:
        ident, report = simulate(
            Lake(settings.lake_dir),
            engine=settings.engine,
            truth_dir=truth or settings.home / "demo-chain" / "truth",
            weeks=weeks,
            now=dt.datetime.now(dt.UTC),
            service_levels=levels,
            currency=currency,
            progress=progress,
        )
    table = Table(
        title=f"{report.first} to {report.last}, {report.stores} stores in {report.currency}"
        f" (forecasts: {report.forecast_model})"
    )
    for column in (
        "policy",
        "core in stock",
        "lost sales",
        "waste",
        "waste vs baseline",
        "avg stock",
    ):
        table.add_column(column)
    for row in report.rows:
        table.add_row(
            row.policy,
            f"{row.in_stock_rate_core:.2%}",
            f"{row.lost_sales_minor / 100:,.0f}",
            f"{row.waste_cost_minor / 100:,.0f}",
            "-" if row.waste_vs_first is None else f"{row.waste_vs_first:+.0%}",
            f"{row.avg_inventory_value_minor / 100:,.0f}",
        )
    console.print(table)
    console.print(f"saved as {ident}; money in {report.currency} (waste at purchase cost)")
