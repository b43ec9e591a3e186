"""``newretail loyalty daily`` against a migrated database of each backend: one line per job with
what it did (an expired points lot, expired coupons, a member moved down a tier, a paid member's
vouchers for the new month), and a second run for the same day that changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import dump
from tests.integration.databases import migrated_engine as migrated_engine
from typer.testing import CliRunner, Result

from newretail.cli.loyalty import loyalty_app
from newretail.config import get_settings
from newretail.loyalty import ledger, points
from newretail.loyalty.coupon_issue import issue
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.loyalty.memberships import enrol, get_membership
from newretail.loyalty.paid import buy_paid
from newretail.oltp.tables import coupons, memberships

app = typer.Typer()
app.add_typer(loyalty_app, name="loyalty")

# A paid period bought then runs 2026-05-01 to 2027-04-30; the run is for its second month. Coupon
# expiry goes by the wall clock, long after the month-long coupons issued here.
BOUGHT = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)
AS_OF = "2026-06-02"


@pytest.fixture
def engine(
    migrated_engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("NEWRETAIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield migrated_engine
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["loyalty", *args])


def _lines(result: Result) -> dict[str, str]:
    """The summary lines printed after the progress display, by job."""
    jobs = ("points expiry", "coupon expiry", "tier evaluation", "paid-member vouchers")
    return {
        job: line.split(": ", 1)[1]
        for line in result.stdout.splitlines()
        for job in jobs
        if line.startswith(f"{job}: ")
    }


def test_daily_runs_every_job_once_per_day(engine: Engine) -> None:
    with engine.begin() as conn:
        ensure_demo_templates(conn, now=BOUGHT)
        ensure_demo_schemes(conn, now=BOUGHT)
        shopper = f"P{uuid.uuid4().hex[:12]}"
        member = enrol(conn, "coffee_club", shopper, channel="app", actor="t", now=BOUGHT).id
        for key, last_day in (("old", dt.date(2026, 5, 31)), ("new", dt.date(2027, 5, 31))):
            points.earn(
                conn,
                member,
                100,
                expires_on=last_day,
                natural_key=key,
                order_id=None,
                actor="t",
                now=BOUGHT,
            )
        issue(conn, "welcome_5_off", [shopper], issue_key="daily-test", actor="t", now=BOUGHT)
        # Gold without a year's spend behind it: the evaluation moves the member down.
        conn.execute(update(memberships).where(memberships.c.id == member).values(tier="gold"))
        payer = f"P{uuid.uuid4().hex[:12]}"
        buy_paid(
            conn,
            "paid_annual",
            payer,
            payment_method="card",
            purchase_key=f"daily-{payer}",
            actor="t",
            now=BOUGHT,
        )
        issued_before = conn.scalar(select(func.count()).select_from(coupons))

    first = run("daily", "--as-of", AS_OF)
    assert first.exit_code == 0, first.output
    done = _lines(first)
    assert done["points expiry"] == "1 lots expired"
    assert done["tier evaluation"].startswith("1 members moved (0 up, 1 down) of ")
    assert done["paid-member vouchers"] == "3 issued"  # a free drink and two 10 off 30
    # Every coupon issued at BOUGHT has run out by now: the welcome one and month 1's vouchers.
    assert done["coupon expiry"] == f"{issued_before} coupons expired"
    with engine.connect() as conn:
        assert ledger.balance(conn, member, "points") == 100
        assert get_membership(conn, member).tier == "green"

    before = sorted(dump(engine).splitlines())
    again = run("daily", "--as-of", AS_OF)
    assert again.exit_code == 0, again.output
    assert _lines(again) == {
        "points expiry": "0 lots expired",
        "coupon expiry": "0 coupons expired",
        "tier evaluation": done["tier evaluation"].replace(
            "1 members moved (0 up, 1 down)", "0 members moved (0 up, 0 down)"
        ),
        "paid-member vouchers": "0 issued",
    }
    assert sorted(dump(engine).splitlines()) == before

    bad = run("daily", "--as-of", "2026-02-30")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error[loyalty.bad_date]: ")
