"""Migrations: a fresh database upgrades to head, matches the tables module, and the service check
refuses a database that is not migrated or not reachable."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, delete, insert, text, update
from sqlalchemy.exc import DBAPIError
from tests.integration.databases import database_url as database_url

from newretail import oltp
from newretail.config import get_settings
from newretail.errors import InvalidInput
from newretail.oltp import DatabaseNotReady, check_current, head_revision, make_engine, upgrade
from newretail.oltp.migrate import current_revision
from newretail.oltp.tables import audit_log, metadata

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def test_an_unmigrated_database_is_refused_with_a_clear_error(engine: Engine) -> None:
    with pytest.raises(DatabaseNotReady) as caught:
        check_current(engine)
    assert caught.value.code == "oltp.not_migrated"
    assert "newretail db upgrade" in str(caught.value)
    assert caught.value.http_status == 503


def test_upgrade_reaches_head_and_check_current_passes(engine: Engine) -> None:
    upgrade(engine)
    check_current(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    check_current(engine)


def test_the_migrated_schema_matches_the_tables_module(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert differences == []


def test_the_audit_log_is_append_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(at=NOW, actor="cli", action="test.append", detail={}))
    for statement in (update(audit_log).values(actor="someone else"), delete(audit_log)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)


def test_a_revision_this_version_does_not_know_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    try:
        with pytest.raises(DatabaseNotReady) as caught:
            check_current(engine)
        assert caught.value.code == "oltp.unknown_revision"
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )
    check_current(engine)


def test_the_default_is_a_wal_sqlite_file_in_home_with_foreign_keys() -> None:
    settings = get_settings()
    assert oltp.database_url(settings).endswith(str(settings.home / "oltp.sqlite3"))
    engine = oltp.engine_from_settings(settings)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    engine = make_engine("postgresql://newretail:hunter2@127.0.0.1:1/nothing?connect_timeout=2")
    with pytest.raises(DatabaseNotReady) as caught:
        check_current(engine)
    assert caught.value.code == "oltp.unreachable"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url", "postgresql+psycopg2://x@y/z"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_engine(url)
    assert caught.value.code == "config.bad_database_url"
