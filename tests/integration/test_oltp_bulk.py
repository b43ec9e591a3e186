"""Bulk upserts on both databases: COPY on PostgreSQL, executemany on SQLite, inside the caller's
transaction (a failure writes nothing)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url, migrated_engine

from newretail.oltp.bulk import upsert_rows
from newretail.oltp.tables import identity_persons

__all__ = ["database_url", "migrated_engine"]
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def _persons(ids: list[str], status: str) -> pa.Table:
    n = len(ids)
    stamp = pa.array([NOW] * n, pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "person_id": pa.array(ids),
            "status": pa.array([status] * n),
            "origin": pa.array(["batch"] * n),
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


def _rows(engine: Engine) -> dict[str, tuple[str, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                identity_persons.c.person_id,
                identity_persons.c.status,
                identity_persons.c.created_at,
            )
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_insert_then_replace_then_keep(migrated_engine: Engine) -> None:
    ids = [f"PBULK{i:07d}" for i in range(120_000)]
    with migrated_engine.begin() as conn:
        assert (
            upsert_rows(conn, identity_persons, _persons(ids, "active"), ("person_id",)) == 120_000
        )
    rows = _rows(migrated_engine)
    assert len([p for p in rows if p.startswith("PBULK")]) == 120_000
    assert rows[ids[5]] == ("active", NOW)
    with migrated_engine.begin() as conn:
        upsert_rows(conn, identity_persons, _persons(ids[:10], "provisional"), ("person_id",))
        upsert_rows(
            conn, identity_persons, _persons(ids[10:20], "retired"), ("person_id",), update=False
        )
    rows = _rows(migrated_engine)
    assert rows[ids[0]][0] == "provisional"
    assert rows[ids[15]][0] == "active"


def test_a_failed_transaction_writes_nothing(migrated_engine: Engine) -> None:
    ids = ["PROLLBACK001", "PROLLBACK002"]
    with pytest.raises(RuntimeError), migrated_engine.begin() as conn:
        upsert_rows(conn, identity_persons, _persons(ids, "active"), ("person_id",))
        raise RuntimeError("killed mid-way")
    assert not any(p.startswith("PROLLBACK") for p in _rows(migrated_engine))
