"""Engines for the OLTP store: SQLite in NEWRETAIL_HOME by default, PostgreSQL (psycopg 3) in production."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from newretail.config import Settings
from newretail.errors import InvalidInput

BUSY_TIMEOUT_MS = 5_000
_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "synchronous=NORMAL",
)


def database_url(settings: Settings) -> str:
    """NEWRETAIL_DATABASE_URL, or the SQLite file ``oltp.sqlite3`` in NEWRETAIL_HOME."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return f"sqlite+pysqlite:///{settings.oltp_file}"


def engine_from_settings(settings: Settings) -> Engine:
    """The engine the CLI and the service use; creates NEWRETAIL_HOME for the embedded default."""
    if settings.database_url is None:
        settings.oltp_file.parent.mkdir(parents=True, exist_ok=True)
    return make_engine(database_url(settings))


def make_engine(url: str) -> Engine:
    """An engine for a ``sqlite:///path`` or ``postgresql+psycopg://`` URL; anything else is refused.

    >>> make_engine("sqlite+pysqlite:///:memory:").dialect.name
    'sqlite'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL may hold a password: never echo it.
        raise InvalidInput(
            "config.bad_database_url", "NEWRETAIL_DATABASE_URL is not a database URL"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return _postgresql_engine(parsed)
    raise InvalidInput(
        "config.bad_database_url",
        f"NEWRETAIL_DATABASE_URL must be sqlite:///… or postgresql+psycopg://…, not {backend}",
    )


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_driver_name() != "psycopg":
        raise InvalidInput(
            "config.bad_database_url", "use the psycopg 3 driver: postgresql+psycopg://…"
        )
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError:
        raise InvalidInput(
            "config.missing_extra",
            "PostgreSQL needs the postgres extra: pip install newretail[postgres]",
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    # The pool hands a connection to whichever thread asks next; SQLAlchemy serialises its use.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (it would defer and skip it) so that ours is used and
    # SAVEPOINT works; the pragmas are per connection and must run outside a transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then writes fails
    # with SQLITE_BUSY at once, without waiting out the busy timeout, if another writer committed in
    # between; serialising writers at BEGIN is what makes the unique-key races in this package safe.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
