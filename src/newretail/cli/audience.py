"""``newretail audience …``: count, save, list and export audiences from the command line. Thin:
each command calls ``newretail.audience``."""

from __future__ import annotations

import datetime as dt
import shutil
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newretail.audience.export import CONSENTS, EXPORT_KINDS, Consent, ExportKind
from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors
from newretail.cli.tags import parse_entity
from newretail.config import get_settings
from newretail.errors import Conflict, InvalidInput
from newretail.security import Principal

audience_app = typer.Typer(
    help="Audiences: count, save and export groups of persons.", no_args_is_help=True
)
console = Console(highlight=False)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _kind(text: str) -> ExportKind:
    for kind in EXPORT_KINDS:
        if kind == text:
            return kind
    raise InvalidInput(
        "audience.bad_kind", f"--kind must be one of {', '.join(EXPORT_KINDS)}, not {text!r}"
    )


def _consent(text: str) -> Consent:
    for consent in CONSENTS:
        if consent == text:
            return consent
    raise InvalidInput(
        "audience.bad_consent", f"--consent must be one of {', '.join(CONSENTS)}, not {text!r}"
    )


def _check_out(out: Path | None) -> None:
    """Refuse an ``--out`` that cannot take a new file before anything is exported."""
    if out is None:
        return
    if out.exists():
        raise Conflict("cli.out_exists", f"{out} already exists; nothing was exported")
    if not out.parent.is_dir():
        raise InvalidInput(
            "cli.out_unwritable", f"there is no folder {out.parent}; nothing was exported"
        )


def _copy_new(source: Path, out: Path) -> None:
    """Copy ``source`` to ``out``, which must not exist yet (a half-written copy is removed)."""
    try:
        with source.open("rb") as src, out.open("xb") as dst:
            try:
                shutil.copyfileobj(src, dst)
            except BaseException:
                out.unlink(missing_ok=True)
                raise
    except FileExistsError:
        raise Conflict(
            "cli.out_exists", f"{out} already exists; the export is in {source}"
        ) from None
    except OSError as error:
        raise InvalidInput(
            "cli.out_unwritable", f"cannot write {out}: {error.strerror}; the export is in {source}"
        ) from None


@audience_app.command("count")
@reports_errors
def count(
    expression: Annotated[str, typer.Argument(help="The audience expression, as text.")],
    entity: Annotated[str, typer.Option("--entity", help="person or store.")] = "person",
) -> None:
    """How many persons (or stores) an expression selects on the current tag snapshot."""
    from newretail.audience.indexes import IndexHolder
    from newretail.audience.service import compile_expression, select

    kind = parse_entity(entity)
    indexes = IndexHolder(get_settings().index_dir).get()
    compiled = compile_expression(indexes, text=expression, tree=None, entity=kind)
    chosen = select(indexes, compiled)
    console.print(
        f"{len(chosen.members):,} of {chosen.universe:,} as of {chosen.as_of}: {compiled.text}"
    )


@audience_app.command("save")
@reports_errors
def save(
    name: Annotated[str, typer.Argument(help="The audience's name.")],
    expression: Annotated[str, typer.Argument(help="The audience expression, as text.")],
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Save an expression as a live audience (recounted at every tag refresh)."""
    from newretail.audience import actions
    from newretail.audience.indexes import IndexHolder
    from newretail.audience.service import compile_expression

    indexes = IndexHolder(get_settings().index_dir).get()
    compiled = compile_expression(indexes, text=expression, tree=None, entity="person")
    with migrated() as database, database.begin() as conn:
        audience = actions.create(
            conn,
            indexes,
            name=name,
            description=description,
            compiled=compiled,
            actor=Principal.cli(),
            now=_now(),
        )
    console.print(f"saved {audience.id} with {audience.size or 0:,} persons: {compiled.text}")


@audience_app.command("list")
@reports_errors
def list_audiences() -> None:
    """The saved (live) audiences, the most recently changed first, with their latest size."""
    from newretail.audience import saved

    with migrated() as database, database.connect() as conn:
        found = saved.list_audiences(conn)
    table = Table(title="saved audiences")
    table.add_column("id", no_wrap=True)
    table.add_column("name")  # the one column that wraps on a narrow terminal
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("as of", no_wrap=True)
    table.add_column("updated (UTC)", no_wrap=True)
    for audience in found:
        size = "-" if audience.size is None else f"{audience.size:,}"
        updated = f"{audience.updated_at:%Y-%m-%d %H:%M}"
        # Text: a name is user input, not markup.
        table.add_row(audience.id, Text(audience.name), size, audience.as_of or "-", updated)
    console.print(table)
    console.print(f"{len(found)} audiences")


@audience_app.command("export")
@reports_errors
def export(
    audience_id: Annotated[str, typer.Argument(help="The saved audience's id (aud_…).")],
    consent: Annotated[
        str,
        typer.Option(
            "--consent", help="Keep only persons who said yes on sms, email, wechat or push."
        ),
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="csv (masked), phone_sha256 or device_sha256.")
    ] = "csv",
    snapshot: Annotated[
        str | None,
        typer.Option("--snapshot", help="A frozen snapshot's id (default: freeze one now)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also copy the file here (never overwritten).")
    ] = None,
) -> None:
    """Write a saved audience's members to a file, honouring consent; audited as the API's are."""
    from newretail.audience import actions
    from newretail.audience.indexes import IndexHolder
    from newretail.audience.service import compile_saved
    from newretail.lake import Lake, connect_engine
    from newretail.security.pii import PiiProtector
    from newretail.tags.realtime_store import open_realtime_store
    from newretail.tags.realtime_view import with_realtime

    chosen_kind, chosen_consent = _kind(kind), _consent(consent)
    _check_out(out)
    settings = get_settings()
    now = _now()
    holder = IndexHolder(settings.index_dir)
    with (
        migrated() as database,
        closing(open_realtime_store(settings)) as realtime,
        connect_engine(settings.engine) as engine,
        database.begin() as conn,
    ):
        compiled = compile_saved(conn, holder.get(), audience_id)
        tools = actions.ExportTools(
            indexes=with_realtime(holder.get(), realtime, today=now.date()),
            lake=Lake(settings.lake_dir),
            engine=engine,
            protector=PiiProtector.from_settings(settings),
            directory=settings.exports_dir,
        )
        made = actions.export(
            conn,
            tools,
            audience_id,
            kind=chosen_kind,
            consent=chosen_consent,
            snapshot_id=snapshot,
            compiled=compiled,
            actor=Principal.cli(),
            now=now,
        )
    path = settings.exports_dir / made.file_name
    console.print(
        f"export {made.id} of {made.audience_id} (snapshot {made.snapshot_id}): {made.rows:,} rows,"
        f" {made.excluded:,} excluded without {made.consent} consent",
        soft_wrap=True,
    )
    console.print(f"file {path}", soft_wrap=True, markup=False)
    if out is not None:
        _copy_new(path, out)
        console.print(f"copied to {out}", soft_wrap=True, markup=False)
