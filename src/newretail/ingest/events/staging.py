"""Micro-batches staged beside the lake, and their compaction into the ODS ``app_events`` partitions.

The flusher writes each micro-batch as one small Parquet part per partition it touches, durably, and
only then acknowledges the stream; :func:`compact` later merges a partition's parts into its one data
file, keeping the first row per message id, then deletes the parts. So a micro-batch costs what it
weighs, not what the day's partition weighs, and the partition is rewritten once per compaction. A
crash leaves parts the next compaction merges (the key drops what is there twice) or entries the
stream delivers again. Engines never read staging: it is outside every table directory, under a name
starting with ``_``. Call everything here inside ``lake.writer()``.
"""

from __future__ import annotations

import datetime as dt
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

_SPEC = table("app_events")
FILE_SCHEMA = pa.schema([f for f in _SPEC.schema if f.name not in _SPEC.partition_by])
_KEY = [name for name in _SPEC.key if name not in _SPEC.partition_by]
# Hidden from engines (leading "_") and named so the lake's sweep of ".tmp-" files covers it.
_STAGING = Path("_staging", "ods", "app_events")
_TMP_PREFIX = ".tmp-"

PartitionKey = tuple[str, dt.date]  # (source, business_date)


def stage(lake: Lake, key: PartitionKey, columns: dict[str, list[Any]]) -> None:
    """Write one partition's new rows, given as columns of :data:`FILE_SCHEMA`, as a part, durably."""
    directory = _part_dir(lake, key)
    directory.mkdir(parents=True, exist_ok=True)
    # Time-ordered names: compaction keeps the first row per key, so parts merge in staging order.
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = directory / f"{_TMP_PREFIX}{name}"
    try:
        with tmp.open("wb") as handle:
            pq.write_table(pa.Table.from_pydict(columns, schema=FILE_SCHEMA), handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(directory / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)


def staged(lake: Lake) -> list[PartitionKey]:
    """Partitions with parts waiting for compaction."""
    root = lake.root / _STAGING
    keys = []
    for directory in sorted(root.glob("source=*/business_date=*")):
        if any(directory.glob("part-*.parquet")):
            source = directory.parent.name.split("=", 1)[1]
            day = dt.date.fromisoformat(directory.name.split("=", 1)[1])
            keys.append((source, day))
    return keys


def compact(lake: Lake, keys: Iterable[PartitionKey] | None = None) -> int:
    """Merge the parts of ``keys`` (default: every staged partition) into the lake; return rows added."""
    return sum(_compact_one(lake, key) for key in (staged(lake) if keys is None else keys))


def _compact_one(lake: Lake, key: PartitionKey) -> int:
    directory = _part_dir(lake, key)
    parts = sorted(directory.glob("part-*.parquet"))
    if not parts:
        return 0
    partition: Partition = {"source": key[0], "business_date": key[1]}
    tables = [pq.read_table(part, schema=FILE_SCHEMA) for part in parts]
    before = 0
    if lake.exists("ods", "app_events", partition):
        current = lake.read_partition("ods", "app_events", partition, schema=FILE_SCHEMA)
        before = current.num_rows
        tables.insert(0, current)
    combined = pa.concat_tables(tables)
    # From numpy, not from a Python range: a million rows would hold the GIL for a long moment.
    numbered = combined.append_column(
        "_row", pa.array(np.arange(combined.num_rows, dtype=np.int64))
    )
    firsts = numbered.group_by(_KEY, use_threads=False).aggregate([("_row", "min")])
    firsts_rows = firsts["_row_min"].combine_chunks()
    keep = firsts_rows.take(pc.array_sort_indices(firsts_rows))
    # When every row was already there (a redelivered batch) the partition needs no rewrite.
    if not (before and len(keep) == before):
        lake.write_partition("ods", "app_events", partition, combined.take(keep))
    for part in parts:
        part.unlink()
    fsync_dir(directory)
    return len(keep) - before


def _part_dir(lake: Lake, key: PartitionKey) -> Path:
    source, day = key
    return lake.root / _STAGING / f"source={source}" / f"business_date={day.isoformat()}"
