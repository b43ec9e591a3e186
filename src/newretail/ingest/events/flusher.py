"""The flusher: stream → ODS ``app_events`` in micro-batches, acknowledged only after the partition write.

Delivery from the stream is at-least-once; merging each micro-batch into its partition and keeping
one row per message id makes the lake exactly-once, so a crash between write and ack is harmless.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from newretail.ingest.events.contract import StoredEvent
from newretail.ingest.events.rows import to_row
from newretail.lake.storage import Lake, Partition
from newretail.model import table
from newretail.stream.base import EventLog

GROUP = "ods_app_events"
_SPEC = table("app_events")
_FILE_SCHEMA = pa.schema([f for f in _SPEC.schema if f.name not in _SPEC.partition_by])
_KEY = [name for name in _SPEC.key if name not in _SPEC.partition_by]


@dataclass(frozen=True)
class FlushResult:
    """``entries`` read from the stream; ``rows`` new in the lake; ``stream_only`` group/alias."""

    entries: int
    rows: int
    stream_only: int
    partitions: tuple[tuple[str, dt.date], ...]


def flush_once(
    *,
    log: EventLog,
    lake: Lake,
    consumer: str,
    count: int = 10_000,
    claim_idle_ms: int = 60_000,
    group: str = GROUP,
) -> FlushResult:
    """One micro-batch: what a crashed flusher left pending, then new entries; write, then ack."""
    entries = log.claim(group, consumer, min_idle_ms=claim_idle_ms, count=count)
    entries += log.read(group, consumer, count=count - len(entries))
    by_partition: dict[tuple[str, dt.date], list[dict[str, Any]]] = defaultdict(list)
    stream_only = 0
    for entry in entries:
        row = to_row(StoredEvent.from_bytes(entry.payload))
        if row is None:
            stream_only += 1
        else:
            by_partition[(row["source"], row["business_date"])].append(row)
    added = 0
    if by_partition:
        with lake.writer():
            for (source, day), rows in sorted(by_partition.items()):
                added += _merge(lake, source=source, day=day, rows=rows)
    log.ack(group, [entry.id for entry in entries])
    return FlushResult(
        entries=len(entries),
        rows=added,
        stream_only=stream_only,
        partitions=tuple(sorted(by_partition)),
    )


def flush(*, log: EventLog, lake: Lake, consumer: str, count: int = 10_000) -> FlushResult:
    """Flush micro-batches until the stream has nothing new, then trim what every group acked."""
    entries = rows = stream_only = 0
    partitions: set[tuple[str, dt.date]] = set()
    while True:
        result = flush_once(log=log, lake=lake, consumer=consumer, count=count)
        entries += result.entries
        rows += result.rows
        stream_only += result.stream_only
        partitions.update(result.partitions)
        if result.entries == 0:
            break
    log.trim()
    return FlushResult(entries, rows, stream_only, tuple(sorted(partitions)))


def _merge(lake: Lake, *, source: str, day: dt.date, rows: list[dict[str, Any]]) -> int:
    """Merge ``rows`` into their partition, keeping the first row per key; return rows added."""
    partition: Partition = {"source": source, "business_date": day}
    new = pa.Table.from_pylist(rows, schema=_FILE_SCHEMA)
    parts = [new]
    if lake.exists("ods", "app_events", partition):
        parts.insert(0, lake.read_partition("ods", "app_events", partition, schema=_FILE_SCHEMA))
    combined = pa.concat_tables(parts)
    before = combined.num_rows - new.num_rows
    numbered = combined.append_column("_row", pa.array(range(combined.num_rows), pa.int64()))
    firsts = numbered.group_by(_KEY, use_threads=False).aggregate([("_row", "min")])
    keep = sorted(int(i) for i in firsts["_row_min"].to_pylist() if i is not None)
    if before and len(keep) == before:
        return 0  # every row was already there: a redelivered batch, nothing to rewrite
    lake.write_partition("ods", "app_events", partition, combined.take(keep))
    return len(keep) - before
