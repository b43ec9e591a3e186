"""``newretail loyalty …``: the daily membership jobs (tiers, points expiry, paid-member vouchers,
coupon expiry) and the ledger reconciliation. Thin: each command calls ``newretail.loyalty``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors

loyalty_app = typer.Typer(
    help="Membership and benefits: reconcile ledgers, run the daily jobs.", no_args_is_help=True
)
console = Console(highlight=False)


@loyalty_app.command("reconcile")
@reports_errors
def reconcile_command() -> None:
    """Check every points and wallet balance against its entries, every points lot against its
    draws and every coupon against its events; lists each difference and exits 1 when there is any."""
    from rich.table import Table

    from newretail.loyalty.reconcile import reconcile

    with migrated() as database, database.connect() as conn:
        report = reconcile(conn)
    if report.differences:
        table = Table(title="ledger differences")
        for column in ("kind", "subject", "expected", "actual"):
            table.add_column(
                column, justify="right" if column in {"expected", "actual"} else "left"
            )
        for difference in report.differences:
            table.add_row(
                difference.kind,
                difference.subject,
                str(difference.expected),
                str(difference.actual),
            )
        console.print(table)
    console.print(
        f"{report.accounts:,} accounts, {report.entries:,} entries, {report.lots:,} points lots, "
        f"{report.coupons:,} coupons: {len(report.differences):,} "
        + ("difference" if len(report.differences) == 1 else "differences")
    )
    if report.differences:
        raise typer.Exit(1)


@loyalty_app.command("expire-points")
@reports_errors
def expire_points_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Expire the points of lots whose last valid day is before this date, YYYY-MM-DD "
            "(default: today in UTC). Running it again expires nothing twice.",
        ),
    ] = None,
) -> None:
    """Expire the points left on every lot past its expiry date."""
    from newretail.errors import InvalidInput
    from newretail.loyalty.points import expire_due

    now = dt.datetime.now(dt.UTC)
    try:
        day = now.date() if as_of is None else dt.date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(
            "loyalty.bad_date", f"--as-of must be a date like 2026-06-30, not {as_of!r}"
        ) from None
    with migrated() as database, database.begin() as conn:
        expired = expire_due(conn, as_of=day, actor="cli", now=now)
    console.print(f"points lots expired (last valid day before {day}): {expired:,}")


def _as_of_day(as_of: str | None, now: dt.datetime) -> dt.date:
    from newretail.errors import InvalidInput

    try:
        return now.date() if as_of is None else dt.date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(
            "loyalty.bad_date", f"--as-of must be a date like 2026-06-30, not {as_of!r}"
        ) from None


@loyalty_app.command("evaluate-tiers")
@reports_errors
def evaluate_tiers_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The day evaluated, YYYY-MM-DD (default: today in UTC); the window is the days "
            "before it. Running it again for the same day moves nobody twice.",
        ),
    ] = None,
) -> None:
    """Move every member to the tier its spend (or points) over the scheme's rolling window reaches."""
    from newretail.loyalty.tiers import evaluate_tiers

    now = dt.datetime.now(dt.UTC)
    day = _as_of_day(as_of, now)
    with migrated() as database, database.begin() as conn:
        run = evaluate_tiers(conn, as_of=day, actor="cli", now=now)
    console.print(
        f"tiers on {day}: {run.evaluated:,} members evaluated, {run.up:,} moved up, "
        f"{run.down:,} moved down"
    )


@loyalty_app.command("issue-vouchers")
@reports_errors
def issue_vouchers_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Issue each paid member's vouchers for the month of their period containing this "
            "day, YYYY-MM-DD (default: today in UTC). Running it again issues nothing twice.",
        ),
    ] = None,
) -> None:
    """Issue the paid membership's monthly vouchers that are due."""
    from newretail.loyalty.paid import issue_monthly_vouchers

    now = dt.datetime.now(dt.UTC)
    day = _as_of_day(as_of, now)
    with migrated() as database, database.begin() as conn:
        issued = issue_monthly_vouchers(conn, as_of=day, actor="cli", now=now)
    console.print(f"issued {issued:,} paid-member vouchers for {day}")


@loyalty_app.command("daily")
@reports_errors
def daily_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The day run for, YYYY-MM-DD (default: today in UTC). Running it again for the "
            "same day changes nothing.",
        ),
    ] = None,
) -> None:
    """Run the daily jobs in order, each in its own transaction: points expiry, coupon expiry, tier
    evaluation and paid-member vouchers."""
    from newretail.cli.progress import progress_bars
    from newretail.loyalty.daily import run_daily

    now = dt.datetime.now(dt.UTC)
    day = _as_of_day(as_of, now)
    with migrated() as database, progress_bars(console) as progress:
        report = run_daily(database, as_of=day, now=now, progress=progress)
    tiers = report.tiers
    console.print(f"points expiry: {report.points_lots_expired:,} lots expired")
    console.print(f"coupon expiry: {report.coupons_expired:,} coupons expired")
    console.print(
        f"tier evaluation: {tiers.up + tiers.down:,} members moved ({tiers.up:,} up, "
        f"{tiers.down:,} down) of {tiers.evaluated:,}"
    )
    console.print(f"paid-member vouchers: {report.vouchers_issued:,} issued")
