"""``newretail supply …``: forecast demand, propose tomorrow's orders, compare policies in simulation.
Thin: each command calls ``newretail.supply.actions``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from newretail.cli.errors import reports_errors
from newretail.cli.progress import progress_bars
from newretail.config import get_settings
from newretail.errors import InvalidInput

if TYPE_CHECKING:
    from newretail.supply.nightly import NightlyResult

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
    """Propose tomorrow's orders for every store and DC from the newest published forecast and
    save them for planners to approve in the console."""
    from newretail.cli.admin import migrated
    from newretail.lake import Lake
    from newretail.supply.actions import plan_and_save

    settings = get_settings()
    with migrated() as database:
        draft, saved = plan_and_save(
            Lake(settings.lake_dir),
            database,
            engine=settings.engine,
            now=dt.datetime.now(dt.UTC),
            service_level=service_level,
        )
    orders = draft.orders()
    stores = sum(1 for line in orders if line.location_type == "store")
    cost = sum(line.packs * line.pack_cost_minor for line in orders)
    console.print(
        f"plan for the close of {draft.origin} at service level {service_level:.1%}:"
        f" {len(orders):,} order lines ({stores:,} from stores, {len(orders) - stores:,} from DCs),"
        f" cost {cost / 100:,.2f} CNY; plan {saved.id} {saved.outcome}"
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


@supply_app.command("transfers")
@reports_errors
def transfers_command(
    time_limit: Annotated[
        float, typer.Option(min=1, help="Seconds the solver may take (HiGHS MIP).")
    ] = 60.0,
    show: Annotated[int, typer.Option(min=0, help="Moves to list.")] = 20,
) -> None:
    """Move surplus stock to nearby stores that will run short, where it saves more than the trips."""
    from newretail.lake import Lake
    from newretail.supply.actions import transfers

    settings = get_settings()
    result = transfers(Lake(settings.lake_dir), engine=settings.engine, time_limit_s=time_limit)
    table = Table(title="Transfers tonight (base units)")
    for column in ("from", "to", "material", "quantity"):
        table.add_column(column)
    for move in result.plan.moves[:show]:
        table.add_row(move.source, move.target, move.material, f"{move.quantity:,}")
    console.print(table)
    plan, greedy = result.plan.costs, result.greedy.costs
    console.print(
        f"{len(result.plan.moves):,} moves ({result.plan.status}, gap {result.plan.gap:.1%}):"
        f" cost {plan.total / 100:,.2f} (trips {plan.transport / 100:,.2f}, lost sales"
        f" {plan.lost_sales / 100:,.2f}, waste {plan.waste / 100:,.2f}) against greedy"
        f" {greedy.total / 100:,.2f} with {len(result.greedy.moves):,} moves; money in CNY"
    )


@supply_app.command("network")
@reports_errors
def network_command(
    time_limit: Annotated[
        float, typer.Option(min=1, help="Seconds the solver may take (HiGHS MIP).")
    ] = 60.0,
) -> None:
    """Which DC should serve which store, and where a new DC would pay off over a year."""
    from newretail.lake import Lake
    from newretail.supply.actions import network

    settings = get_settings()
    result = network(Lake(settings.lake_dir), engine=settings.engine, time_limit_s=time_limit)
    plan = result.plan
    table = Table(title="Network over a year (money in CNY)")
    for column in ("", "total", "running", "opening", "closing", "transport"):
        table.add_column(column, justify="right")
    for label, costs in (
        ("today", plan.current),
        ("planned", plan.costs),
        ("greedy", result.greedy.costs),
    ):
        if costs is not None:
            table.add_row(
                label,
                *(
                    f"{v / 100:,.0f}"
                    for v in (
                        costs.total,
                        costs.running,
                        costs.opening,
                        costs.closing,
                        costs.transport,
                    )
                ),
            )
    console.print(table)
    today = result.problem.current
    sites = result.problem.site_ids
    moved = (
        0
        if today is None
        else sum(sites[int(i)] != new for i, new in zip(today, plan.assignment, strict=True))
    )
    console.print(
        f"open: {', '.join(plan.open_sites)}; new: {', '.join(plan.opened) or 'none'};"
        f" closed: {', '.join(plan.closed) or 'none'}; {moved} stores change DC;"
        f" saving {0 if plan.saving is None else plan.saving / 100:,.0f} a year ({plan.status})"
    )


@supply_app.command("alerts")
@reports_errors
def alerts_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Close of the day to judge, YYYY-MM-DD (default: newest run)."
        ),
    ] = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Deliver to webhooks.")] = True,
) -> None:
    """Raise stock-out, delivery and expiry alerts for the right people, and send them on."""
    from newretail.cli.admin import migrated
    from newretail.lake import Lake
    from newretail.security.pii import PiiProtector
    from newretail.supply.alerts.run import run_alerts
    from newretail.supply.forecast.publish import latest_run

    settings = get_settings()
    lake = Lake(settings.lake_dir)
    day = _day("--as-of", as_of)
    if day is None:
        published = latest_run(lake)
        if published is None:
            raise InvalidInput(
                "supply.no_forecast", "no forecast is published: give --as-of", field="--as-of"
            )
        day = published.origin
    with migrated() as database:
        report = run_alerts(
            lake,
            settings.engine,
            database,
            as_of=day,
            now=dt.datetime.now(dt.UTC),
            protector=PiiProtector.from_settings(settings),
            send=send,
        )
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(report.by_kind.items())) or "none"
    console.print(
        f"alerts as of {report.as_of}: {kinds}; {report.new:,} new, {report.resolved:,} resolved,"
        f" {report.queued:,} webhook deliveries queued"
    )
    for skipped in report.skipped:
        console.print(f"skipped {skipped.kind}: {skipped.reason}")


@supply_app.command("nightly")
@reports_errors
def nightly_command() -> None:
    """After the nightly build: forecast, save tomorrow's orders, raise alerts and (on a generated
    chain) compare the policies; running it again the same night changes nothing."""
    from newretail.cli.admin import migrated
    from newretail.lake import Lake
    from newretail.security.pii import PiiProtector
    from newretail.supply.nightly import run_nightly

    settings = get_settings()
    with migrated() as database, progress_bars(console) as progress:
        result = run_nightly(
            Lake(settings.lake_dir),
            database,
            engine=settings.engine,
            now=dt.datetime.now(dt.UTC),
            protector=PiiProtector.from_settings(settings),
            truth_dir=settings.home / "demo-chain" / "truth",
            progress=progress,
        )
    console.print(describe_nightly(result))


def describe_nightly(result: NightlyResult) -> str:
    made = "made" if result.forecast_made else "already there"
    alerts = sum(result.alerts.by_kind.values())
    simulation = f"; simulation {result.simulation}" if result.simulation else ""
    return (
        f"supply: forecast from {result.forecast.origin} ({result.forecast.model}, {made});"
        f" plan {result.plan.id} {result.plan.outcome} with {result.order_lines:,} order lines;"
        f" {alerts:,} alerts{simulation}"
    )


@supply_app.command("launch")
@reports_errors
def launch_command(
    product: Annotated[str, typer.Option(help="The new product's id (in the catalogue).")],
    launch: Annotated[str, typer.Option(help="Launch day, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option(min=1, max=56, help="Days the first delivery covers.")] = 14,
    total: Annotated[
        int | None, typer.Option(min=0, help="Units to share out (default: what stores expect).")
    ] = None,
) -> None:
    """Initial quantity of a new product for every store from its analogues' launch curves."""
    from newretail.lake import Lake
    from newretail.supply.history import load_history
    from newretail.supply.launch import allocate_launch

    settings = get_settings()
    day = _day("--launch", launch)
    assert day is not None
    history = load_history(Lake(settings.lake_dir), engine=settings.engine, last=day)
    allocation = allocate_launch(
        history, product_id=product, launch=day, days=days, total_units=total
    )
    table = Table(
        title=f"{product} from {day}: first {days} days (analogues: {', '.join(allocation.analogues)})"
    )
    for column in ("store", "units", "expected", "from"):
        table.add_column(column, justify="left" if column in ("store", "from") else "right")
    for store, units, expected, basis in zip(
        allocation.store_ids, allocation.units, allocation.expected, allocation.basis, strict=True
    ):
        if units or expected:
            table.add_row(str(store), f"{units:,}", f"{expected:,.1f}", str(basis))
    console.print(table)
    console.print(
        f"{int(allocation.units.sum()):,} units to {int((allocation.units > 0).sum())} stores"
    )
