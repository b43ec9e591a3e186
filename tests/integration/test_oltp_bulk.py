"""Bulk upserts on both databases: COPY on PostgreSQL, executemany on SQLite, inside the caller's
transaction (a failure writes nothing)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import Engine, inspect, select
from tests.integration.databases import database_url, migrated_engine

from newretail.oltp.bulk import indexes_deferred, upsert_rows
from newretail.oltp.tables import identity_links, identity_persons

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


def test_a_bulk_load_into_an_empty_table_rebuilds_its_indexes(migrated_engine: Engine) -> None:
    def index_names() -> set[str]:
        return {i["name"] for i in inspect(migrated_engine).get_indexes("identity_links")}

    before = index_names()
    rows = pa.table(
        {
            "source": pa.array(["app", "pos"]),
            "source_record_id": pa.array(["U1", "C1"]),
            "person_id": pa.array(["PX", "PX"]),
            "phone_hash": pa.array(["h", "h"]),
            "reason_kind": pa.array(["identifier"] * 2),
            "reason": pa.array(["phone"] * 2),
            "origin": pa.array(["lake"] * 2),
            "linked_at": pa.array([NOW] * 2, pa.timestamp("us", tz="UTC")),
        }
    )
    with migrated_engine.begin() as conn, indexes_deferred(conn, identity_links):
        upsert_rows(conn, identity_links, rows, ("source", "source_record_id"))
        assert not inspect(conn).get_indexes("identity_links")
    assert index_names() == before and before
    with migrated_engine.connect() as conn:
        found = conn.execute(
            select(identity_links.c.source).where(identity_links.c.phone_hash == "h")
        ).all()
    assert len(found) == 2
