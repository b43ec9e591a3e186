"""Rich renderings of the reports that domain services return."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from newretail.audience.refresh import NightlyReport
    from newretail.demo import DemoCredentials
    from newretail.identity.batch import RunReport as IdentityRun
    from newretail.ingest import IngestReport
    from newretail.lake import BuildReport, RunRecord
    from newretail.metrics import ChainSummary
    from newretail.sim import GenerateReport


def print_generate(console: Console, report: GenerateReport, out: Path) -> None:
    table = Table(title=f"Generated chain in {out}")
    table.add_column("source file kind")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"ground truth: {sum(report.truth_rows.values()):,} rows in {out / 'truth'}")


def print_ingest(console: Console, report: IngestReport) -> None:
    table = Table(title="Ingest")
    for column, justify in (
        ("file kind", "left"),
        ("files", "right"),
        ("unchanged", "right"),
        ("rows", "right"),
        ("accepted", "right"),
        ("rejected", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in report.by_declaration():
        table.add_row(
            line.name,
            str(line.files),
            str(line.unchanged),
            f"{line.rows:,}",
            f"{line.accepted:,}",
            f"{line.rejected:,}",
        )
    console.print(table)
    if report.rejected_by_reason:
        reasons = Table(title="Rejected rows by reason (this run)")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        for reason, count in sorted(report.rejected_by_reason.items()):
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)


def print_build(console: Console, report: BuildReport) -> None:
    console.print(report.describe())


def print_identity_run(console: Console, report: IdentityRun) -> None:
    console.print(
        f"OneID run {report.run_id} ({report.mode}): {report.fresh_records:,} new or changed "
        f"records; {report.records:,} records resolved -> {report.persons:,} persons; "
        f"{report.new_persons:,} new, {report.merges:,} merges, "
        f"{report.splits:,} splits, {report.fuzzy_links:,} fuzzy links, {report.demoted:,} "
        f"identifiers demoted, {report.queued_for_review:,} pairs queued for review"
    )
    console.print(
        "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()), style="dim"
    )


def print_runs(console: Console, runs: Sequence[RunRecord]) -> None:
    table = Table(title="Runs")
    for column in (
        "run",
        "kind",
        "engine",
        "started (UTC)",
        "seconds",
        "status",
        "dates",
        "partitions",
    ):
        table.add_column(column)
    for run in runs:
        table.add_row(*run.as_row())
    console.print(table)


def print_summary(console: Console, summary: ChainSummary) -> None:
    console.print(summary.headline())
    for block in summary.tables():
        table = Table(title=block.title)
        for column in block.columns:
            table.add_column(column, justify="right" if column != block.columns[0] else "left")
        for row in block.rows:
            table.add_row(*row)
        console.print(table)


def print_demo_login(console: Console, credentials: DemoCredentials, *, url: str) -> None:
    console.print()
    console.rule("[bold]newretail demo is ready")
    console.print(f"Console:  {url}/console/   (API docs: {url}/docs)")
    console.print(f"Login:    {credentials.email}")
    console.print(f"Password: {credentials.password}")
    console.print(
        f"Events:   Segment write key {credentials.write_key} "
        f"(e.g. analytics.write_key = ..., analytics.host = '{url}')"
    )
    console.print(
        f"Checkout: channel API key {credentials.channel_key} "
        f"(Authorization: Bearer …; try `newretail trade journey --key …`)"
    )
    console.rule()


def print_tags(console: Console, report: NightlyReport) -> None:
    table = Table(title=f"Tags as of {report.tags.as_of}")
    for column in ("entity", "rows", "tags", "version", "compute s", "index s"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    for part in report.tags.entities:
        table.add_row(
            part.entity,
            f"{part.rows:,}",
            str(part.tags),
            str(part.version),
            f"{part.compute_seconds:.1f}",
            f"{part.index_seconds:.1f}",
        )
    console.print(table)
    console.print(
        f"{report.audiences} saved audiences recounted in {report.audience_seconds:.1f} s"
    )
