"""The ``newretail`` command line: thin commands that call domain services and print their reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newretail.cli import reports
from newretail.cli.admin import db_app, keys_app, users_app
from newretail.cli.audience import audience_app
from newretail.cli.errors import reports_errors
from newretail.cli.flashsale import flashsale_app
from newretail.cli.identity import identity_app
from newretail.cli.loyalty import loyalty_app
from newretail.cli.progress import progress_bars
from newretail.cli.serve import serve
from newretail.cli.supply import describe_nightly, supply_app
from newretail.cli.tags import tags_app
from newretail.cli.trade import trade_app
from newretail.config import Engine, get_settings
from newretail.errors import InvalidInput
from newretail.lake.storage import Lake

app = typer.Typer(
    name="newretail",
    help="newretail: a retail data middle platform (generate, ingest, build, inspect).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(identity_app, name="identity")
app.add_typer(flashsale_app, name="flashsale")
app.add_typer(tags_app, name="tags")
app.add_typer(audience_app, name="audience")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(trade_app, name="trade")
app.add_typer(supply_app, name="supply")
app.command()(serve)
console = Console(highlight=False)

EngineOption = Annotated[
    Engine | None,
    typer.Option("--engine", help="Compute engine for the lake (default: NEWRETAIL_ENGINE)."),
]


def _lake() -> Lake:
    return Lake(get_settings().lake_dir)


def _engine(engine: Engine | None) -> Engine:
    return engine or get_settings().engine


@app.command()
@reports_errors
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to create (must not exist).")],
    members: Annotated[int, typer.Option(help="Number of members (people) in the chain.")] = 20_000,
    stores: Annotated[int, typer.Option(help="Number of stores.")] = 40,
    days: Annotated[int, typer.Option(help="Days of trading to simulate.")] = 180,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 7,
    start: Annotated[str, typer.Option(help="First trading day, YYYY-MM-DD.")] = "2026-01-01",
) -> None:
    """Generate a synthetic coffee chain: source-system files plus the ground truth beside them."""
    from newretail.sim import SimConfig
    from newretail.sim import generate as run_generate

    config = SimConfig(
        members=members, stores=stores, days=days, seed=seed, start=_date("--start", start)
    )
    with progress_bars(console) as progress:
        report = run_generate(config, out=out, progress=progress)
    reports.print_generate(console, report, out)


@app.command()
@reports_errors
def ingest(
    directory: Annotated[Path, typer.Argument(help="Directory of source-system folders.")],
) -> None:
    """Map every source system's files into the lake's ODS layer; bad rows go to quarantine."""
    from newretail.ingest import ingest as run_ingest

    with progress_bars(console) as progress:
        report = run_ingest(directory, lake=_lake(), settings=get_settings(), progress=progress)
    reports.print_ingest(console, report)


@app.command()
@reports_errors
def build(
    date_from: Annotated[
        str | None, typer.Option("--from", help="First business date to rebuild.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last business date to rebuild.")
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Build DWD and DWS from ODS, incrementally by partition (or force --from/--to)."""
    from newretail.lake import build as run_build

    first = _date("--from", date_from) if date_from else None
    last = _date("--to", date_to) if date_to else None
    if first and last and first > last:
        raise InvalidInput("cli.bad_range", "--from is after --to", field="--from")
    with progress_bars(console) as progress:
        report = run_build(
            lake=_lake(), engine=_engine(engine), date_from=first, date_to=last, progress=progress
        )
    reports.print_build(console, report)


@app.command()
@reports_errors
def runs(
    limit: Annotated[int, typer.Option(help="How many runs to show, newest first.")] = 20,
) -> None:
    """List the lake's recorded build runs."""
    from newretail.lake import list_runs

    reports.print_runs(console, list_runs(_lake())[:limit])


@app.command()
@reports_errors
def summary(engine: EngineOption = None) -> None:
    """Summarise the chain in the lake: stores, members, orders, sales by channel and month."""
    from newretail.metrics import chain_summary

    reports.print_summary(console, chain_summary(_lake(), engine=_engine(engine)))


@app.command()
@reports_errors
def docs(
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write.")] = Path(
        "docs/data-model.md"
    ),
) -> None:
    """Write the data-model reference generated from the canonical schemas."""
    from newretail.model.docs import render_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(), encoding="utf-8")
    console.print(f"wrote {out}")


@app.command()
@reports_errors
def demo(
    members: Annotated[int, typer.Option(help="Members in the demo chain.")] = 20_000,
    stores: Annotated[int, typer.Option(help="Stores in the demo chain.")] = 40,
    days: Annotated[int, typer.Option(help="Days in the demo chain.")] = 180,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve API and console when ready.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1).")] = 8000,
) -> None:
    """Generate (once), ingest and build a demo chain, print its summary, then serve it."""
    from newretail.demo import prepare_demo
    from newretail.metrics import chain_summary

    settings = get_settings()
    with progress_bars(console) as progress:
        result = prepare_demo(
            settings,
            members=members,
            stores=stores,
            days=days,
            now=dt.datetime.now(dt.UTC),
            progress=progress,
        )
    reports.print_ingest(console, result.ingested)
    reports.print_build(console, result.built)
    reports.print_identity_run(console, result.identity)
    reports.print_tags(console, result.tags)
    console.print(describe_nightly(result.supply))
    reports.print_summary(console, chain_summary(_lake(), engine=settings.engine))
    url = f"http://127.0.0.1:{port}"
    reports.print_demo_login(console, result.credentials, url=url)
    if serve_after:
        serve(host="127.0.0.1", port=port, workers=1)


def _date(option: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "cli.bad_date", f"{option} must be a date as YYYY-MM-DD, got {text!r}", field=option
        ) from None
