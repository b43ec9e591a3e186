"""Loads every identity record OneID links: the lake's (newest version of each) and those that arrived
through the API, with each record's linking identifiers over all its versions (an old phone still
links the person who changed it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, select, tuple_

from newretail.errors import NoData
from newretail.identity.rules import IdentityRules
from newretail.identity.versions import IDENTITY_TABLE, read_version_files
from newretail.lake import Lake
from newretail.model import dwd
from newretail.oltp.tables import identity_api_records

RECORD_SCHEMA = dwd.table(IDENTITY_TABLE).schema


@dataclass(frozen=True)
class RecordSet:
    """``records``: one row per record, ``record_key`` 0..n-1 in (source, source_record_id) order.
    ``identifiers``: (record_key, kind, value), one row per distinct linking value of a record."""

    records: pa.Table
    identifiers: pa.Table

    def __len__(self) -> int:
        return self.records.num_rows


def load_records(
    lake: Lake,
    conn: Connection,
    rules: IdentityRules,
    only: pa.Table | None = None,
    versions: Path | None = None,
) -> RecordSet:
    """All records to resolve, or ``only`` those whose (source, source_record_id) it lists;
    refuses a lake that has no identity records yet. ``versions``: the identifiers of every
    record version (the file ``version_identifiers`` keeps), read from the ODS when not given."""
    latest_files = lake.files("dwd", IDENTITY_TABLE)
    api = api_records(conn, None if only is None else key_pairs(only))
    if not latest_files and api.num_rows == 0:
        raise NoData(
            "identity.no_records",
            "the lake has no identity records yet: run `newretail ingest` and `newretail build`",
        )
    db = duckdb.connect()
    db.register("api_records", api)
    db.register("wanted_keys", (only if only is not None else _NO_KEYS).select(list(KEY)))
    # Semi-joined on the record key when a subset is asked for; Parquet row groups not holding
    # any of its keys are still read, but only their key columns.
    subset = "" if only is None else " SEMI JOIN wanted_keys USING (source, source_record_id)"
    lake_rows = (
        f"SELECT * FROM read_parquet({_paths(latest_files)}, union_by_name = true){subset}"
        if latest_files
        else "SELECT * FROM api_records WHERE false"
    )
    columns = ", ".join(f'"{name}"' for name in RECORD_SCHEMA.names)
    # An API record replaces the lake's copy of the same record when it is newer.
    records = db.sql(
        f"""
        WITH everything AS (
            SELECT {columns}, 0 AS from_api FROM ({lake_rows})
            UNION ALL BY NAME
            SELECT {columns}, 1 AS from_api FROM api_records
        ), newest AS (
            SELECT * FROM everything
            QUALIFY row_number() OVER (
                PARTITION BY source, source_record_id ORDER BY updated_at DESC, from_api DESC
            ) = 1
        )
        SELECT (row_number() OVER (ORDER BY source, source_record_id) - 1)::BIGINT AS record_key,
               * EXCLUDE (from_api), from_api::BOOLEAN AS from_api
        FROM newest ORDER BY record_key
        """
    ).to_arrow_table()
    db.register("records", records)
    if versions is None:
        db.register("version_rows", read_version_files(lake.files("ods", IDENTITY_TABLE), rules))
    else:
        db.sql(f"CREATE VIEW version_rows AS SELECT * FROM read_parquet('{versions}')")
    unpivot = " UNION ALL ".join(
        f"SELECT record_key, '{rule.kind}' AS kind, {rule.column}::VARCHAR AS value FROM keyed "
        f"WHERE {rule.column} IS NOT NULL"
        for rule in rules.identifiers
    )
    identifiers = db.sql(
        f"""
        WITH versions AS (
            SELECT source, source_record_id, {_id_columns(rules)} FROM version_rows{subset}
            UNION ALL
            SELECT source, source_record_id, {_id_columns(rules)} FROM records
        ), keyed AS (
            SELECT r.record_key, v.* EXCLUDE (source, source_record_id)
            FROM versions v JOIN records r USING (source, source_record_id)
        )
        SELECT DISTINCT record_key, kind, value FROM ({unpivot}) ORDER BY record_key, kind, value
        """
    ).to_arrow_table()
    db.close()
    return RecordSet(records, identifiers)


KEY = ("source", "source_record_id")
_KEYS_PER_QUERY = 2_000
_NO_KEYS = pa.table(
    {"source": pa.array([], pa.string()), "source_record_id": pa.array([], pa.string())}
)


def key_strings(table: pa.Table) -> pa.ChunkedArray[Any]:
    """One string per row naming its record, for membership tests between record sets."""
    joined: pa.ChunkedArray[Any] = pc.binary_join_element_wise(  # type: ignore[call-overload]
        table["source"], table["source_record_id"], "\x1f"
    )
    return joined


def key_pairs(keys: pa.Table) -> list[tuple[str, str]]:
    """(source, source_record_id) of each row."""
    sources = keys["source"].to_pylist()
    ids = keys["source_record_id"].to_pylist()
    return [(str(s), str(r)) for s, r in zip(sources, ids, strict=True)]


def api_record_keys(conn: Connection) -> pa.Table:
    """(source, source_record_id, updated_at) of every record the API has written."""
    table = identity_api_records.c
    rows = conn.execute(select(table.source, table.source_record_id, table.updated_at)).all()
    return pa.table(
        {
            "source": pa.array([r[0] for r in rows], pa.string()),
            "source_record_id": pa.array([r[1] for r in rows], pa.string()),
            "updated_at": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )


def api_records(conn: Connection, keys: Sequence[tuple[str, str]] | None = None) -> pa.Table:
    """The member records the API has written (all, or those with the given keys), as rows of the
    lake's identity-record schema."""
    query = select(identity_api_records.c.attributes)
    if keys is None:
        return records_table(conn.execute(query).scalars().all())
    table = identity_api_records.c
    # The keys first, from the primary key alone: most records asked for never came through the
    # API, and a lookup of a key list is costly on SQLite.
    held = {(str(s), str(r)) for s, r in conn.execute(select(table.source, table.source_record_id))}
    wanted = [key for key in keys if key in held]
    rows: list[dict[str, object]] = []
    # In slices: SQLite caps the parameters of one statement.
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        where = tuple_(table.source, table.source_record_id).in_(chunk)
        rows.extend(conn.execute(query.where(where)).scalars())
    return records_table(rows)


def records_table(rows: Iterable[dict[str, object]]) -> pa.Table:
    """Rows of canonical identity columns (JSON-friendly values) as an Arrow table."""
    converted = [_from_json(row) for row in rows]
    return pa.Table.from_pylist(converted, schema=RECORD_SCHEMA)


def _from_json(row: dict[str, object]) -> dict[str, object]:
    out = dict(row)
    for name in ("phone_cipher", "email_cipher"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = bytes.fromhex(value)
    for name in ("created_at", "updated_at"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = dt.datetime.fromisoformat(value)
    for name in ("birthday", "business_date"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = dt.date.fromisoformat(value)
    return out


def _id_columns(rules: IdentityRules) -> str:
    return ", ".join(rule.column for rule in rules.identifiers)


def _paths(files: list[Path]) -> str:
    return "[" + ", ".join(f"'{path}'" for path in files) + "]"


def identifier_rows(records: RecordSet, rules: IdentityRules) -> pa.Table:
    """Every linking value of every record version as rows of (source, source_record_id, one column
    per identifier kind), the shape the evaluation against a chain's truth reads."""
    db = duckdb.connect()
    db.register("ids", records.identifiers)
    db.register("records", records.records.select(["record_key", "source", "source_record_id"]))
    picks = ", ".join(
        f"CASE WHEN kind = '{rule.kind}' THEN value END AS {rule.column}"
        for rule in rules.identifiers
    )
    table: pa.Table = db.sql(
        f"SELECT r.source, r.source_record_id, {picks} FROM ids JOIN records r USING (record_key)"
    ).to_arrow_table()
    db.close()
    return table


# The columns that may leave this package: never a phone's or e-mail's hash or ciphertext.
SHOWN = tuple(n for n in RECORD_SCHEMA.names if not n.endswith(("_hash", "_cipher")))


def records_of(
    conn: Connection,
    lake: Lake,
    keys: list[tuple[str, str]],
    columns: Sequence[str] = SHOWN,
) -> pa.Table:
    """``columns`` of each (source, source_record_id) in ``keys`` that has a record."""
    db = duckdb.connect()
    db.register(
        "keys",
        pa.table(
            {
                "source": pa.array([k[0] for k in keys], pa.string()),
                "source_record_id": pa.array([k[1] for k in keys], pa.string()),
            }
        ),
    )
    # Only the requested records: a person view must not read every record the API ever wrote.
    db.register("api_records", api_records(conn, keys) if keys else records_table([]))
    names = ", ".join(f'"{c}"' for c in RECORD_SCHEMA.names)
    files = [str(f) for f in lake.files("dwd", "identity_records")]
    from_lake = f"SELECT {names} FROM read_parquet({files}) UNION ALL BY NAME " if files else ""
    table: pa.Table = db.sql(
        f"""
        SELECT {", ".join(f'"{c}"' for c in columns)} FROM (
            {from_lake}SELECT {names} FROM api_records) JOIN keys USING (source, source_record_id)
        QUALIFY row_number() OVER (
            PARTITION BY source, source_record_id ORDER BY updated_at DESC) = 1
        ORDER BY source, source_record_id
        """
    ).to_arrow_table()
    db.close()
    return table
