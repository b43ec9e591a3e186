"""The flusher: stream → ODS ``app_events`` in micro-batches, acknowledged only once staged durably.

Delivery from the stream is at-least-once; each micro-batch is staged as Parquet parts and merged
into its partitions by :func:`~newretail.ingest.events.staging.compact`, which keeps one row per
message id, so the lake is exactly-once and a crash between staging and ack is harmless.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from newretail.ingest.events import staging
from newretail.ingest.events.contract import StoredEvent
from newretail.ingest.events.rows import to_row
from newretail.lake.storage import Lake
from newretail.stream.base import EventLog

GROUP = "ods_app_events"


@dataclass(frozen=True)
class FlushResult:
    """``entries`` read from the stream; ``rows`` new in the lake (0 when only staged);
    ``stream_only`` group/alias."""

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
    compact: bool = True,
) -> FlushResult:
    """One micro-batch: what a crashed flusher left pending, then new entries; stage them, merge the
    partitions they touch into the lake (unless ``compact`` is false), then ack."""
    entries = log.claim(group, consumer, min_idle_ms=claim_idle_ms, count=count)
    entries += log.read(group, consumer, count=count - len(entries))
    # Column lists rather than row dicts: strings and datetimes are no work for the garbage
    # collector, tens of thousands of live dicts are.
    by_partition: dict[tuple[str, dt.date], dict[str, list[Any]]] = {}
    stream_only = 0
    for entry in entries:
        row = to_row(StoredEvent.from_bytes(entry.payload))
        if row is None:
            stream_only += 1
            continue
        key = (row["source"], row["business_date"])
        columns = by_partition.get(key)
        if columns is None:
            columns = by_partition[key] = {name: [] for name in staging.FILE_SCHEMA.names}
        for name, values in columns.items():
            values.append(row[name])
    added = 0
    if by_partition:
        with lake.writer():
            for key, columns in sorted(by_partition.items()):
                staging.stage(lake, key, columns)
            if compact:
                added = staging.compact(lake, sorted(by_partition))
    log.ack(group, [entry.id for entry in entries])
    return FlushResult(
        entries=len(entries),
        rows=added,
        stream_only=stream_only,
        partitions=tuple(sorted(by_partition)),
    )


def compact(*, lake: Lake) -> int:
    """Merge every staged micro-batch into the lake; return the rows added."""
    with lake.writer():
        return staging.compact(lake)


def flush(*, log: EventLog, lake: Lake, consumer: str, count: int = 10_000) -> FlushResult:
    """Flush micro-batches until the stream has nothing new, merge all that is staged into the lake,
    then trim what every group acked."""
    entries = stream_only = 0
    partitions: set[tuple[str, dt.date]] = set()
    while True:
        result = flush_once(log=log, lake=lake, consumer=consumer, count=count, compact=False)
        entries += result.entries
        stream_only += result.stream_only
        partitions.update(result.partitions)
        if result.entries == 0:
            break
    rows = compact(lake=lake)
    log.trim()
    return FlushResult(entries, rows, stream_only, tuple(sorted(partitions)))
