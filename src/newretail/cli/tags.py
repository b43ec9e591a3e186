"""``newretail tags …``: refresh the tags and their snapshots and list the catalogue. Thin: each
command calls ``newretail.tags``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newretail.cli import reports
from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors
from newretail.cli.progress import progress_bars
from newretail.config import get_settings
from newretail.errors import InvalidInput
from newretail.tags.spec import Entity

tags_app = typer.Typer(
    help="Tags: the catalogue, and their refresh from the lake.", no_args_is_help=True
)
console = Console(highlight=False)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "tags.bad_date", f"--as-of must be a date like 2026-06-30, not {text!r}"
        ) from None


def parse_entity(text: str) -> Entity:
    if text == "person":
        return "person"
    if text == "store":
        return "store"
    raise InvalidInput("tags.bad_entity", f"--entity must be person or store, not {text!r}")


@tags_app.command("refresh")
@reports_errors
def refresh(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Business date the tags describe (default: newest in lake)."),
    ] = None,
) -> None:
    """Compute every store and person tag, publish a new snapshot and recount saved audiences."""
    from newretail.audience.refresh import refresh_everything

    day = _date(as_of)
    settings = get_settings()
    with migrated() as database, progress_bars(console) as progress:
        report = refresh_everything(settings, database, as_of=day, progress=progress, now=_now())
    reports.print_tags(console, report)


@tags_app.command("list")
@reports_errors
def list_tags(
    entity: Annotated[str, typer.Option("--entity", help="person or store.")] = "person",
    category: Annotated[str | None, typer.Option("--category", help="Only this category.")] = None,
) -> None:
    """The catalogue: each tag's id, type, category and English name."""
    from newretail.tags.catalogue import Catalogue
    from newretail.tags.user_tags import user_tags

    kind = parse_entity(entity)
    with migrated() as database, database.connect() as conn:
        catalogue = Catalogue.shipped().with_tags(user_tags(conn))
    table = Table(title=f"{entity} tags")
    for column in ("id", "type", "category", "name"):
        table.add_column(column)
    specs = [s for s in catalogue.for_entity(kind) if category in (None, s.category)]
    for spec in specs:
        table.add_row(spec.id, spec.value_type, spec.category, spec.name_en)
    console.print(table)
    console.print(f"{len(specs)} tags")
