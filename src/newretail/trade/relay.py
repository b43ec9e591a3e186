"""The outbox relay: ``trade_outbox`` rows → the lake's ODS, then marked relayed.

A batch of unrelayed rows, in id order, is staged as Parquet parts beside the ODS tables and merged
into their (source, business_date) partitions by the same staging and compaction the event flusher
uses (:mod:`newretail.ingest.events.staging`); only once that is durable are the rows marked
``relayed_at``, in their own transaction. A relay killed in between leaves rows unmarked, and the
next relay writes them again: compaction keeps one row per ODS key ((source, order_id) for an order,
(source, order_id, line_no) for a line, (source, refund_id), (source, coupon_id)), and the copies are
identical, so the lake ends up with exactly one of each. Two relays at once (the server's and
``newretail trade relay``) are as harmless.

>>> relay_once(engine, lake, now=now)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update

from newretail.ingest.events import staging
from newretail.lake.storage import Lake, Layer
from newretail.oltp.tables import trade_outbox
from newretail.trade.outbox import PAYLOAD_VERSION, TABLES, from_json

BATCH = 1_000
# Ids per UPDATE: SQLite caps the parameters of one statement.
_PER_UPDATE = 2_000
_ODS: tuple[tuple[Layer, str], ...] = tuple(("ods", name) for name in TABLES)

PartitionKey = tuple[str, dt.date]


@dataclass(frozen=True, slots=True)
class RelayResult:
    """``outbox_rows`` relayed and marked; ``rows`` staged per ODS table; ``added`` rows new in ODS
    (0 when only staged, or when all were there from a relay killed before it marked them);
    ``partitions`` (table, source, business_date) touched."""

    outbox_rows: int
    rows: dict[str, int]
    added: int
    partitions: tuple[tuple[str, str, dt.date], ...]


def relay_once(
    engine: Engine, lake: Lake, *, now: dt.datetime, limit: int = BATCH, compact: bool = True
) -> RelayResult:
    """Relay up to ``limit`` unrelayed outbox rows, oldest first: stage them, merge the partitions
    they touch into ODS (unless ``compact`` is false: :func:`compact` does it later), mark them."""
    with engine.connect() as conn:
        batch = conn.execute(
            select(trade_outbox.c.id, trade_outbox.c.payload)
            .where(trade_outbox.c.relayed_at.is_(None))
            .order_by(trade_outbox.c.id)
            .limit(limit)
        ).all()
    if not batch:
        return RelayResult(0, {}, 0, ())
    by_partition = _columns([payload for _, payload in batch])
    added = 0
    with lake.writer(*_ODS):
        for (name, key), columns in sorted(by_partition.items()):
            staging.stage(lake, key, columns, name=name)
        if compact:
            for name in TABLES:
                keys = sorted(key for table_name, key in by_partition if table_name == name)
                added += staging.compact(lake, keys, name=name)
    _mark_relayed(engine, [outbox_id for outbox_id, _ in batch], now=now)
    rows: dict[str, int] = {}
    for (name, _), columns in by_partition.items():
        rows[name] = rows.get(name, 0) + len(next(iter(columns.values())))
    return RelayResult(
        outbox_rows=len(batch),
        rows=rows,
        added=added,
        partitions=tuple(sorted((name, *key) for name, key in by_partition)),
    )


def compact(lake: Lake) -> int:
    """Merge every staged part of the relayed tables into ODS; return the rows added."""
    # Listed before taking the writer lock, which a lake build may hold for minutes.
    if not any(staging.staged(lake, name=name) for name in TABLES):
        return 0
    with lake.writer(*_ODS):
        return sum(staging.compact(lake, name=name) for name in TABLES)


def relay(engine: Engine, lake: Lake, *, now: dt.datetime, limit: int = BATCH) -> RelayResult:
    """Relay batches until the outbox has nothing unrelayed, then merge all that is staged."""
    outbox_rows = 0
    rows: dict[str, int] = {}
    partitions: set[tuple[str, str, dt.date]] = set()
    while True:
        result = relay_once(engine, lake, now=now, limit=limit, compact=False)
        outbox_rows += result.outbox_rows
        for name, count in result.rows.items():
            rows[name] = rows.get(name, 0) + count
        partitions.update(result.partitions)
        if result.outbox_rows < limit:
            break
    return RelayResult(outbox_rows, rows, compact(lake), tuple(sorted(partitions)))


def backlog(engine: Engine) -> int:
    """Outbox rows not yet relayed."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(trade_outbox.c.relayed_at.is_(None))
            ).scalar_one()
        )


def _columns(payloads: Sequence[Any]) -> dict[tuple[str, PartitionKey], dict[str, list[Any]]]:
    """The payloads' rows as columns of each ODS table's staged file, per partition."""
    out: dict[tuple[str, PartitionKey], dict[str, list[Any]]] = {}
    for payload in payloads:
        if payload.get("version") != PAYLOAD_VERSION:
            raise ValueError(f"outbox payload version {payload.get('version')!r} is not known")
        for name, rows in payload["tables"].items():
            schema = staging.file_schema(name)
            for raw in rows:
                row = from_json(name, raw)
                key = (name, (row["source"], row["business_date"]))
                columns = out.get(key)
                if columns is None:
                    columns = out[key] = {column: [] for column in schema.names}
                for column, values in columns.items():
                    values.append(row[column])
    return out


def _mark_relayed(engine: Engine, ids: Sequence[int], *, now: dt.datetime) -> None:
    with engine.begin() as conn:
        for start in range(0, len(ids), _PER_UPDATE):
            chunk = ids[start : start + _PER_UPDATE]
            conn.execute(
                update(trade_outbox)
                .where(trade_outbox.c.id.in_(chunk), trade_outbox.c.relayed_at.is_(None))
                .values(relayed_at=now)
            )
