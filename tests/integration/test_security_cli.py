"""The admin commands (``db upgrade``, ``users create``, ``keys create|revoke``) against a temporary
NEWRETAIL_HOME, on each database backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import typer
from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import dump
from typer.testing import CliRunner, Result

from newretail.cli.admin import db_app, keys_app, users_app
from newretail.config import get_settings
from newretail.errors import Unauthorized
from newretail.oltp import head_revision, make_engine
from newretail.security import (
    SessionPolicy,
    authenticate_user_key,
    authenticate_write_key,
    get_user,
    login,
)

app = typer.Typer()
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
NOW = dt.datetime.now(dt.UTC)
TYPED = "a long enough password"
POLICY = SessionPolicy(max_age=dt.timedelta(hours=1), idle_timeout=dt.timedelta(minutes=5))


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def assert_one_line_error(result: Result, code: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]: "), result.stderr


def test_commands_before_the_upgrade_say_to_run_it(engine: Engine) -> None:
    result = run("users", "create", "--email", "early@example.com", "--role", "admin")
    assert_one_line_error(result, "oltp.not_migrated")
    assert "newretail db upgrade" in result.stderr


def test_db_upgrade_is_repeatable(engine: Engine) -> None:
    for _ in range(2):
        result = run("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"database at revision {head_revision()}"


def test_users_create_prints_a_generated_password_once(engine: Engine) -> None:
    result = run("users", "create", "--email", "Ops@Example.com", "--role", "admin")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created user ops@example.com (role admin)"
    password = lines[1].removeprefix("password (shown once): ")
    assert password not in dump(engine)
    with engine.begin() as conn:
        assert login(conn, email="ops@example.com", password=password, now=NOW, policy=POLICY)


def test_users_create_reads_a_password_from_stdin(engine: Engine) -> None:
    result = run(
        "users",
        "create",
        "--email",
        "sm@example.com",
        "--role",
        "store_manager",
        "--store",
        "S001",
        "--store",
        "S002",
        "--password-stdin",
        stdin=TYPED + "\n",
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip()
        == "created user sm@example.com (role store_manager, stores S001, S002)"
    )
    with engine.begin() as conn:
        assert login(conn, email="sm@example.com", password=TYPED, now=NOW, policy=POLICY)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--email", "nope", "--role", "admin"), "users.bad_email"),
        (("--email", "r@example.com", "--role", "root"), "users.unknown_role"),
        (("--email", "m@example.com", "--role", "store_manager"), "users.scope_required"),
        (
            ("--email", "a@example.com", "--role", "analyst", "--store", "S1"),
            "users.scope_not_allowed",
        ),
        (("--email", "OPS@example.com", "--role", "analyst"), "users.duplicate_email"),
    ],
)
def test_users_create_refuses_bad_input_in_one_line(
    engine: Engine, args: tuple[str, ...], code: str
) -> None:
    before = dump(engine)
    assert_one_line_error(run("users", "create", *args), code)
    assert dump(engine) == before


def test_keys_are_printed_once_work_and_can_be_revoked(engine: Engine) -> None:
    made = run("keys", "create", "--user", "ops@example.com", "--expires-days", "30")
    assert made.exit_code == 0, made.output
    user_key = made.stdout.splitlines()[-1]
    written = run("keys", "create", "--write-key", "--source", "app")
    assert written.exit_code == 0, written.output
    write_key = written.stdout.splitlines()[-1]
    everything = dump(engine)
    assert user_key not in everything and write_key not in everything
    with engine.begin() as conn:
        principal = authenticate_user_key(conn, user_key, now=NOW)
        assert principal.user_id == get_user(conn, email="ops@example.com").id
        assert authenticate_write_key(conn, write_key, now=NOW).source == "app"
    prefix = write_key.split("_")[1]
    revoked = run("keys", "revoke", prefix)
    assert revoked.exit_code == 0 and revoked.stdout.strip() == f"revoked key {prefix}"
    with pytest.raises(Unauthorized), engine.begin() as conn:
        authenticate_write_key(conn, write_key, now=NOW)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("create",), "cli.bad_key_options"),
        (
            ("create", "--user", "ops@example.com", "--write-key", "--source", "app"),
            "cli.bad_key_options",
        ),
        (("create", "--write-key"), "cli.bad_key_options"),
        (("create", "--user", "ops@example.com", "--source", "app"), "cli.bad_key_options"),
        (("create", "--write-key", "--source", "fax"), "keys.unknown_source"),
        (("create", "--user", "nobody@example.com"), "users.not_found"),
        (("revoke", "000000000000"), "keys.not_found"),
    ],
)
def test_keys_commands_refuse_bad_input_in_one_line(
    engine: Engine, args: tuple[str, ...], code: str
) -> None:
    assert_one_line_error(run("keys", *args), code)


def test_the_default_database_is_a_file_in_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWRETAIL_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert run("db", "upgrade").exit_code == 0
    assert run("users", "create", "--email", "x@example.com", "--role", "analyst").exit_code == 0
    assert (get_settings().home / "oltp.sqlite3").is_file()
