"""The daily membership run: points expiry, coupon expiry, tier evaluation and paid-member vouchers,
in that order, each job in a transaction of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from newretail.loyalty import coupons, paid, points, tiers
from newretail.progress import Progress, SilentProgress

# Who the run's entries and events are attributed to (coupon expiry keeps its own actor).
ACTOR = "system:daily"


@dataclass(frozen=True, slots=True)
class DailyReport:
    """What one run changed: a second run for the same day reports 0 moved everywhere."""

    as_of: dt.date
    points_lots_expired: int
    coupons_expired: int
    tiers: tiers.TierRun
    vouchers_issued: int


def run_daily(
    engine: Engine, *, as_of: dt.date, now: dt.datetime, progress: Progress | None = None
) -> DailyReport:
    """Run the day's jobs for ``as_of`` (coupons expire by ``now``).

    Each job commits on its own, so a failure leaves the jobs before it done, and every job is
    idempotent per day (natural keys), so running again after a failure, or twice, does each thing
    once. ``progress`` shows a line per job, ticked when it has committed.
    """
    shown = progress or SilentProgress()
    with _job(engine, shown, "points expiry") as conn:
        lots = points.expire_due(conn, as_of=as_of, actor=ACTOR, now=now)
    with _job(engine, shown, "coupon expiry") as conn:
        expired = coupons.expire_due(conn, now=now)
    with _job(engine, shown, "tier evaluation") as conn:
        moves = tiers.evaluate_tiers(conn, as_of=as_of, actor=ACTOR, now=now)
    with _job(engine, shown, "paid-member vouchers") as conn:
        vouchers = paid.issue_monthly_vouchers(conn, as_of=as_of, actor=ACTOR, now=now)
    return DailyReport(
        as_of=as_of,
        points_lots_expired=lots,
        coupons_expired=expired,
        tiers=moves,
        vouchers_issued=vouchers,
    )


@contextmanager
def _job(engine: Engine, progress: Progress, label: str) -> Iterator[Connection]:
    """One job: its line on the progress display, ticked once its transaction has committed."""
    task = progress.task(label, total=1)
    with engine.begin() as conn:
        yield conn
    task.advance()
