"""``newretail identity …``: run OneID, score it against a generated chain's truth, review grey-zone
pairs, merge and un-merge by hand. Thin: every command calls ``newretail.identity``, imported inside
the command because Splink and SciPy take seconds to load and every other command would pay for it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newretail.cli import reports
from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors
from newretail.config import get_settings
from newretail.errors import InvalidInput
from newretail.lake.storage import Lake

identity_app = typer.Typer(help="OneID: one person across every channel.", no_args_is_help=True)
review_app = typer.Typer(
    help="Grey-zone record pairs waiting for a decision.", no_args_is_help=True
)
identity_app.add_typer(review_app, name="review")
console = Console(highlight=False)
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="JSON file overriding the identity rules.")
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _rules_file(path: Path | None) -> Path | None:
    return path or get_settings().home / "identity.json"


@identity_app.command("resolve")
@reports_errors
def resolve(
    full: Annotated[
        bool, typer.Option("--full", help="Re-score every fuzzy candidate, not just new records.")
    ] = False,
    retrain: Annotated[
        bool, typer.Option("--retrain", help="Train the match model again before scoring.")
    ] = False,
    backend: Annotated[
        str, typer.Option("--backend", help="Splink backend: duckdb or spark.")
    ] = "duckdb",
    rules: RulesOption = None,
) -> None:
    """Link every identity record to a person (incremental after the first run)."""
    from newretail.identity.batch import resolve_identities
    from newretail.identity.rules import load_rules

    if backend not in ("duckdb", "spark"):
        raise InvalidInput(
            "identity.bad_backend", f"backend must be duckdb or spark, not {backend}"
        )
    settings = get_settings()
    with migrated() as engine:
        report = resolve_identities(
            Lake(settings.lake_dir),
            engine,
            rules=load_rules(_rules_file(rules)),
            model_file=settings.home / "identity" / "model.json",
            now=_now(),
            full=full,
            backend=backend,
            retrain=retrain,
        )
    reports.print_identity_run(console, report)


@identity_app.command("evaluate")
@reports_errors
def evaluate_run(
    truth: Annotated[Path, typer.Option("--truth", help="The generated chain's truth/ directory.")],
    rules: RulesOption = None,
) -> None:
    """Score the current links against a generated chain's ground truth."""
    from newretail.identity.evaluation import evaluate, meets_targets
    from newretail.identity.records import identifier_rows, load_records
    from newretail.identity.rules import load_rules
    from newretail.identity.store import current_links

    if not (truth / "identity_map.parquet").exists():
        raise InvalidInput("identity.no_truth", f"{truth} has no identity_map.parquet")
    settings = get_settings()
    with migrated() as engine, engine.connect() as conn:
        links = current_links(conn)
        rules_used = load_rules(_rules_file(rules))
        records = load_records(Lake(settings.lake_dir), conn, rules_used)
    if links.num_rows == 0:
        raise InvalidInput(
            "identity.not_resolved", "no links yet: run `newretail identity resolve`"
        )
    identifiers = identifier_rows(records, rules_used)
    result = evaluate(links.select(["source", "source_record_id", "person_id"]), truth, identifiers)
    table = Table("measure", "value", "target", "met", title="OneID against the truth")
    for name, value, target, met in meets_targets(result):
        shown = (
            "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
        )
        table.add_row(name, shown, target, "yes" if met else "NO")
    console.print(table)
    console.print(_summary(result), style="dim")


def _summary(result: object) -> str:
    fields = getattr(result, "__dataclass_fields__", {})
    parts = []
    for name in fields:
        value = getattr(result, name)
        if isinstance(value, float):
            parts.append(f"{name} {value:.4f}")
        elif isinstance(value, int):
            parts.append(f"{name} {value:,}")
    return "; ".join(parts)


@identity_app.command("merge")
@reports_errors
def merge(
    keep: Annotated[str, typer.Argument(help="The person that stays.")],
    absorb: Annotated[str, typer.Argument(help="The person whose records move and who retires.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")] = "by hand",
) -> None:
    """Merge two persons by hand; the nightly run keeps them together."""
    from newretail.identity import manual

    with migrated() as engine, engine.begin() as conn:
        event = manual.merge_persons(
            conn, keep=keep, absorb=absorb, actor="cli", reason=reason, now=_now()
        )
    console.print(f"merged {absorb} into {keep} (event {event})")


@identity_app.command("unmerge")
@reports_errors
def unmerge(
    person: Annotated[str, typer.Argument(help="The person a merge went into.")],
    event: Annotated[
        int | None, typer.Option("--event", help="Which merge event (default: the latest).")
    ] = None,
) -> None:
    """Undo a merge: the absorbed person comes back with exactly its records."""
    from newretail.identity import manual

    with migrated() as engine, engine.begin() as conn:
        undo = manual.unmerge(conn, person, actor="cli", now=_now(), event_id=event)
    console.print(f"un-merged (event {undo}); undo it with `newretail identity remerge {undo}`")


@identity_app.command("remerge")
@reports_errors
def remerge(event: Annotated[int, typer.Argument(help="The un-merge event to undo.")]) -> None:
    """Undo an un-merge."""
    from newretail.identity import manual

    with migrated() as engine, engine.begin() as conn:
        merged = manual.remerge(conn, event, actor="cli", now=_now())
    console.print(f"re-merged (event {merged})")


@identity_app.command("history")
@reports_errors
def history(person: Annotated[str, typer.Argument(help="A person id.")]) -> None:
    """Merges, splits and un-merges that involved a person."""
    from newretail.identity import manual

    with migrated() as engine, engine.connect() as conn:
        events = manual.history(conn, person)
    table = Table("event", "at", "kind", "actor", "kept", "other", "records", "undone by")
    for e in events:
        table.add_row(
            str(e["id"]),
            f"{e['at']:%Y-%m-%d %H:%M}",
            e["kind"],
            e["actor"],
            e["person_id"],
            e["other_person_id"],
            str(e["records_moved"]),
            str(e["undone_by"] or ""),
        )
    console.print(table)


@review_app.command("list")
@reports_errors
def review_list(
    limit: Annotated[int, typer.Option("--limit", help="How many to show.")] = 20,
) -> None:
    """Open pairs, most likely matches first."""
    from newretail.identity import review

    with migrated() as engine, engine.connect() as conn:
        items = review.list_reviews(conn, limit=limit)
    table = Table("id", "left", "right", "persons", "probability")
    for i in items:
        table.add_row(
            str(i.id),
            ":".join(i.left),
            ":".join(i.right),
            f"{i.left_person} / {i.right_person}",
            f"{i.match_probability:.3f}",
        )
    console.print(table)


@review_app.command("approve")
@reports_errors
def review_approve(item: Annotated[int, typer.Argument(help="Review item id.")]) -> None:
    """The pair is one person: merge their persons."""
    from newretail.identity import review

    with migrated() as engine, engine.begin() as conn:
        review.decide(conn, item, approve=True, actor="cli", now=_now())
    console.print(f"approved {item}")


@review_app.command("reject")
@reports_errors
def review_reject(item: Annotated[int, typer.Argument(help="Review item id.")]) -> None:
    """The pair are different people: keep them apart from now on."""
    from newretail.identity import review

    with migrated() as engine, engine.begin() as conn:
        review.decide(conn, item, approve=False, actor="cli", now=_now())
    console.print(f"rejected {item}")
