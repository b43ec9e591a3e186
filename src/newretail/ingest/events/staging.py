"""Micro-batches staged beside the lake, and their compaction into ODS partitions: ``app_events``
from the flusher, and any other ODS table partitioned by (source, business_date), which the trade
relay uses for orders, order lines, refunds and coupon redemptions.

The flusher writes each micro-batch as one small Parquet part per partition it touches, durably, and
only then acknowledges the stream; :func:`compact` later merges a partition's parts into its one data
file, keeping the first row per key (the message id, for events), then deletes the parts. So a
micro-batch costs what it weighs, not what the day's partition weighs, and the partition is
rewritten once per compaction. A crash leaves parts the next compaction merges (the key drops what
is there twice) or entries the stream delivers again. Engines never read staging: it is outside
every table directory, under a name starting with ``_``. Call everything here inside
``lake.writer()``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.lake.storage import Lake, Partition
from newretail.model import table
from newretail.stream.segments import fsync_dir

_EVENTS = "app_events"
_PARTITION_BY = ("source", "business_date")
# Hidden from engines (leading "_") and named so the lake's sweep of ".tmp-" files covers it.
_STAGING = Path("_staging", "ods")
_TMP_PREFIX = ".tmp-"

PartitionKey = tuple[str, dt.date]  # (source, business_date)


@functools.cache
def file_schema(name: str) -> pa.Schema:
    """The columns a part (and a partition file) of ODS table ``name`` holds: all but the path's."""
    spec = table(name)
    if spec.partition_by != _PARTITION_BY:
        raise ValueError(f"{name} is not partitioned by {', '.join(_PARTITION_BY)}")
    return pa.schema([f for f in spec.schema if f.name not in spec.partition_by])


FILE_SCHEMA = file_schema(_EVENTS)


def stage(
    lake: Lake, key: PartitionKey, columns: dict[str, list[Any]], *, name: str = _EVENTS
) -> None:
    """Write one partition's new rows of ODS table ``name``, given as columns of its
    :func:`file_schema`, as a part, durably."""
    directory = _part_dir(lake, key, name)
    directory.mkdir(parents=True, exist_ok=True)
    # Time-ordered names: compaction keeps the first row per key, so parts merge in staging order.
    part = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = directory / f"{_TMP_PREFIX}{part}"
    try:
        with tmp.open("wb") as handle:
            pq.write_table(pa.Table.from_pydict(columns, schema=file_schema(name)), handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(directory / part)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)


def staged(lake: Lake, *, name: str = _EVENTS) -> list[PartitionKey]:
    """Partitions of ODS table ``name`` with parts waiting for compaction."""
    root = lake.root / _STAGING / name
    keys = []
    for directory in sorted(root.glob("source=*/business_date=*")):
        if any(directory.glob("part-*.parquet")):
            source = directory.parent.name.split("=", 1)[1]
            day = dt.date.fromisoformat(directory.name.split("=", 1)[1])
            keys.append((source, day))
    return keys


def compact(lake: Lake, keys: Iterable[PartitionKey] | None = None, *, name: str = _EVENTS) -> int:
    """Merge the parts of ``keys`` (default: every staged partition) of ODS table ``name`` into the
    lake; return rows added."""
    todo = staged(lake, name=name) if keys is None else keys
    return sum(_compact_one(lake, key, name) for key in todo)


def _compact_one(lake: Lake, key: PartitionKey, name: str) -> int:
    directory = _part_dir(lake, key, name)
    parts = sorted(directory.glob("part-*.parquet"))
    if not parts:
        return 0
    partition: Partition = {"source": key[0], "business_date": key[1]}
    schema = file_schema(name)
    spec = table(name)
    tables = [pq.read_table(part, schema=schema) for part in parts]
    before = 0
    if lake.exists("ods", name, partition):
        current = lake.read_partition("ods", name, partition, schema=schema)
        before = current.num_rows
        tables.insert(0, current)
    combined = pa.concat_tables(tables)
    # From numpy, not from a Python range: a million rows would hold the GIL for a long moment.
    numbered = combined.append_column(
        "_row", pa.array(np.arange(combined.num_rows, dtype=np.int64))
    )
    key_columns = [column for column in spec.key if column not in spec.partition_by]
    firsts = numbered.group_by(key_columns, use_threads=False).aggregate([("_row", "min")])
    firsts_rows = firsts["_row_min"].combine_chunks()
    keep = firsts_rows.take(pc.array_sort_indices(firsts_rows))
    # When every row was already there (a redelivered batch) the partition needs no rewrite.
    if not (before and len(keep) == before):
        lake.write_partition("ods", name, partition, combined.take(keep))
    for part in parts:
        part.unlink()
    fsync_dir(directory)
    return len(keep) - before


def _part_dir(lake: Lake, key: PartitionKey, name: str) -> Path:
    source, day = key
    return lake.root / _STAGING / name / f"source={source}" / f"business_date={day.isoformat()}"
