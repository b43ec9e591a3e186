"""Write accepted rows into ODS partitions: split by partition, merge with what is there, swap in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newretail.lake.storage import Lake
from newretail.model import TableSpec


def split(spec: TableSpec, table: pa.Table) -> Iterator[tuple[dict[str, str | dt.date], pa.Table]]:
    """Consecutive runs of equal partition values (``table`` is sorted by partition first)."""
    if table.num_rows == 0:
        return
    change = np.zeros(table.num_rows, dtype=bool)
    change[0] = True
    for name in spec.partition_by:
        column = table[name].combine_chunks()
        change[1:] |= pc.not_equal(column[1:], column[:-1]).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(change).tolist()
    for start, end in zip(starts, [*starts[1:], table.num_rows], strict=True):
        first = table.slice(start, 1)
        values = {name: first[name][0].as_py() for name in spec.partition_by}
        yield values, table.slice(start, end - start)


class Existing:
    """The ODS partition files present, listed once per table: the run holds the writer lock, so
    only it adds any, and a stat per partition costs more than the listing on a big lake."""

    def __init__(self, lake: Lake) -> None:
        self._lake = lake
        self._files: dict[str, set[Path]] = {}

    def has(self, table: str, path: Path) -> bool:
        if table not in self._files:
            self._files[table] = set(self._lake.files("ods", table))
        return path in self._files[table]

    def add(self, table: str, path: Path) -> None:
        self._files.setdefault(table, set()).add(path)


def write_all(
    lake: Lake,
    spec: TableSpec,
    table: pa.Table,
    *,
    con: duckdb.DuckDBPyConnection,
    pool: ThreadPoolExecutor,
    existing: Existing,
) -> int:
    """Replace each ODS partition ``table`` touches with its old rows merged with the new ones.

    The newer row wins by key. Merges run here (they share ``con``); the writes run on ``pool``,
    because each write waits on two fsyncs and a year of a chain has tens of thousands of partitions.
    Returns once every partition is durably in place, so the caller may then record the file.
    """
    writes: list[Future[object]] = []
    try:
        for partition, rows in split(spec, table):
            path = lake.partition_file("ods", spec.name, partition)
            if existing.has(spec.name, path):
                rows = _merge(lake, spec, partition, rows, con=con)
            writes.append(pool.submit(lake.write_partition, "ods", spec.name, partition, rows))
            existing.add(spec.name, path)
    finally:
        # Wait for every write even when one failed: none may still run once the caller moves on.
        wait(writes)
    for done in writes:
        done.result()
    return len(writes)


def _merge(
    lake: Lake,
    spec: TableSpec,
    partition: dict[str, str | dt.date],
    rows: pa.Table,
    *,
    con: duckdb.DuckDBPyConnection,
) -> pa.Table:
    stored = [f for f in spec.schema if f.name not in partition]
    old = lake.read_partition("ods", spec.name, partition, schema=pa.schema(stored))
    new = rows.select([f.name for f in stored])
    key = ", ".join(f'"{k}"' for k in spec.key if k not in partition)
    con.register("old_rows", old)
    con.register("new_rows", new)
    try:
        merged = con.sql(
            f"""
            SELECT * EXCLUDE (__newer, __rank) FROM (
                SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY __newer DESC) AS __rank
                FROM (SELECT *, 0 AS __newer FROM old_rows UNION ALL BY NAME
                      SELECT *, 1 AS __newer FROM new_rows)
            ) WHERE __rank = 1 ORDER BY {key}
            """
        ).to_arrow_table()
    finally:
        con.unregister("old_rows")
        con.unregister("new_rows")
    return pa.Table.from_arrays(
        [merged[f.name].cast(f.type) for f in stored], schema=pa.schema(stored)
    )
