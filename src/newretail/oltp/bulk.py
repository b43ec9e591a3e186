"""Bulk writes of Arrow tables: COPY on PostgreSQL, executemany on SQLite, both as one upsert.

Row-at-a-time statements manage a few thousand rows a second; OneID writes millions of links, so
PostgreSQL gets COPY into a temporary table and one INSERT ... ON CONFLICT from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Table, literal, select

# Negative: KiB, as SQLite's cache_size pragma reads it (512 MiB).
_BULK_CACHE_KIB = -512 * 1024


@contextmanager
def indexes_deferred(conn: Connection, table: Table) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for a bulk load into an empty table and build them after.

    Building an index once over sorted keys is several times faster than keeping it up to date row
    by row. Only for an empty table: a live table would go without its indexes meanwhile. The DDL is
    part of the caller's transaction on both databases, so a failure leaves the indexes as they were.
    """
    if conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
        yield
        return
    for index in table.indexes:
        index.drop(conn)
    yield
    for index in table.indexes:
        index.create(conn)


def upsert_rows(
    conn: Connection, table: Table, rows: pa.Table, key: Sequence[str], *, update: bool = True
) -> int:
    """Insert ``rows`` into ``table``, replacing rows with the same ``key`` (or, with ``update``
    false, keeping them); returns the number of rows given.

    Runs inside the caller's transaction, so a failure leaves nothing written.
    """
    if rows.num_rows == 0:
        return 0
    columns = rows.column_names
    names = ", ".join(columns)
    updates = update and ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    conflict = (
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
        if updates
        else f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    )
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        staging = f"_bulk_{table.name}"
        with raw.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
                f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cursor.execute(f"TRUNCATE {staging}")
            with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for batch in rows.to_batches(max_chunksize=50_000):
                    for record in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                        copy.write_row(record)
            cursor.execute(
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} {conflict}"
            )
        return rows.num_rows
    placeholders = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders}) {conflict}"
    cursor = raw.cursor()
    # Secondary indexes on hashes take inserts in random order; with SQLite's default 2 MB page
    # cache every insert then reads pages from disk. A large cache for the bulk write, then back.
    (previous,) = cursor.execute("PRAGMA cache_size").fetchone()
    cursor.execute(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")
    try:
        for batch in rows.to_batches(max_chunksize=50_000):
            cursor.executemany(
                statement, zip(*(_sqlite_values(col) for col in batch.columns), strict=True)
            )
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")
        cursor.close()
    return rows.num_rows


def _sqlite_values(column: pa.Array[Any]) -> list[Any]:
    # SQLite stores timestamps as the text SQLAlchemy's DateTime writes for it.
    if pa.types.is_timestamp(column.type):
        return [
            None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f") for v in column.to_pylist()
        ]
    return column.to_pylist()
