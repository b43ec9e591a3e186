"""``newretail loyalty reconcile`` and ``expire-points`` against a migrated database of each backend:
0 differences and exit 0 on a clean ledger, a line per difference and exit 1 once a balance is
tampered with, and the expiry run idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, new_membership
from typer.testing import CliRunner, Result

from newretail.cli.loyalty import loyalty_app
from newretail.config import get_settings
from newretail.loyalty import ledger, points, wallet
from newretail.oltp.tables import loyalty_accounts

app = typer.Typer()
app.add_typer(loyalty_app, name="loyalty")


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


def test_reconcile_reports_zero_then_the_tampered_balance(engine: Engine) -> None:
    member = new_membership(engine)
    with engine.begin() as conn:
        wallet.top_up(
            conn,
            member,
            1000,
            bonus_minor=100,
            currency="CNY",
            natural_key="t",
            payment_method="cash",
            actor="test",
            now=NOW,
        )
        wallet.pay(conn, member, 300, natural_key="p", order_id=None, actor="test", now=NOW)
    clean = run("reconcile")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip().endswith(": 0 differences")

    with engine.begin() as conn:
        account = ledger.existing_account_id(conn, member, "wallet")
        conn.execute(
            update(loyalty_accounts).where(loyalty_accounts.c.id == account).values(balance=5000)
        )
    tampered = run("reconcile")
    assert tampered.exit_code == 1, tampered.output
    rows = [line for line in tampered.stdout.splitlines() if "account_balance" in line]
    assert len(rows) == 1 and f"account {account} " in rows[0], tampered.stdout
    assert "5000" in rows[0] and "727" in rows[0]  # 1000 - 273 taken from principal
    assert tampered.stdout.strip().endswith(": 1 difference")

    with engine.begin() as conn:
        conn.execute(
            update(loyalty_accounts).where(loyalty_accounts.c.id == account).values(balance=727)
        )
    assert run("reconcile").exit_code == 0


def test_expire_points_runs_once_per_lot(engine: Engine) -> None:
    member = new_membership(engine)
    with engine.begin() as conn:
        points.earn(
            conn,
            member,
            80,
            expires_on=dt.date(2020, 1, 31),
            natural_key="old",
            order_id=None,
            actor="test",
            now=NOW,
        )
    first = run("expire-points", "--as-of", "2020-02-01")
    assert first.exit_code == 0, first.output
    assert "points lots expired (last valid day before 2020-02-01): 1" in first.stdout
    again = run("expire-points", "--as-of", "2020-02-01")
    assert again.stdout.strip().endswith(": 0")
    with engine.connect() as conn:
        assert ledger.balance(conn, member, "points") == 0
    assert run("expire-points").exit_code == 0  # today in UTC
    bad = run("expire-points", "--as-of", "2020-02-30")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error[loyalty.bad_date]: ")
