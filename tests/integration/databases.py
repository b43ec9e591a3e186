"""The OLTP backends every OLTP-backed test runs on: a SQLite file and a fresh PostgreSQL schema.

Import the fixtures into a test module (``from tests.integration.databases import database_url,
migrated_engine``). Each module gets its own empty database per backend: a SQLite file, or a new schema
in the ``test`` database (named by ``search_path`` in the URL) dropped when the module is done. The
PostgreSQL variant skips, with one line, when the server is not there.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Iterator
from typing import LiteralString
from urllib.parse import quote

import pytest
from sqlalchemy import Engine

from newretail.oltp import make_engine, upgrade

# The server the suite expects; NEWRETAIL_TEST_POSTGRES points elsewhere (a psycopg conninfo URL).
POSTGRES = os.environ.get("NEWRETAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@functools.cache
def postgres_unavailable() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can (asked once per run)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (the postgres extra)"
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3):
            return None
    except psycopg.Error as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        return f"no PostgreSQL at {POSTGRES}: {lines[0]}"


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database of each backend, private to the test module."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path_factory.mktemp('oltp') / 'oltp.sqlite3'}"
        return
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    schema = f"t_{module[:40]}_{secrets.token_hex(4)}"
    _on_schema("CREATE SCHEMA {}", schema)
    try:
        separator = "&" if "?" in POSTGRES else "?"
        options = quote(f"-csearch_path={schema}", safe="")
        yield (
            POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
            + f"{separator}options={options}"
        )
    finally:
        _on_schema("DROP SCHEMA {} CASCADE", schema)


def _on_schema(template: LiteralString, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(sql.SQL(template).format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the module's database, upgraded to the head revision."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def dump(engine: Engine) -> str:
    """Every row of every table as text: for asserting that a secret is stored nowhere."""
    from sqlalchemy import MetaData, select

    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in tables.sorted_tables
            for row in conn.execute(select(table))
        )
