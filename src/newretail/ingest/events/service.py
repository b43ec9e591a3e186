"""The intake service: validate a request whole (:func:`prepare`), then drop duplicates and append
durably (:func:`commit`); :func:`accept` is the two in a row.

A server commits many prepared requests at once, so that one fsync (or one Redis round trip) covers
them all; validation stays per request, so a bad one is refused alone and keeps nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from newretail.ingest.events import fast
from newretail.ingest.events.body import Endpoint, read_body
from newretail.ingest.events.normalise import to_stored, validate
from newretail.ingest.events.record import Record
from newretail.model import codes
from newretail.stream.base import EventLog
from newretail.stream.counters import Counters
from newretail.stream.dedupe import Dedupe


@dataclass(frozen=True)
class AcceptResult:
    """What became of an accepted request: every message is either newly kept or a duplicate."""

    accepted: int
    duplicates: int
    message_ids: tuple[str, ...]  # in request order, derived ids included


@dataclass(frozen=True)
class Prepared:
    """A request that passed validation: its records in request order, not yet kept anywhere."""

    records: list[Record]
    received_at: dt.datetime


def prepare(
    body: bytes,
    *,
    endpoint: Endpoint,
    source: str,
    received_at: dt.datetime,
    content_encoding: str | None = None,
) -> Prepared:
    """Validate and normalise one Segment HTTP API request; raises ``EventRejected`` for a bad one."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    if source not in codes.SOURCES:
        raise ValueError(f"unknown source {source!r}")
    request = read_body(body, endpoint=endpoint, content_encoding=content_encoding)
    received_at = received_at.astimezone(dt.UTC)
    records = fast.records(request, endpoint=endpoint, source=source, received_at=received_at)
    if records is None:
        validated = validate(request, endpoint=endpoint)
        events = [
            to_stored(message, raw, shared=request.shared, source=source, received_at=received_at)
            for (_, message), (_, raw) in zip(validated, request.messages, strict=True)
        ]
        records = [
            Record(e.dedupe_key, e.message_id, e.to_bytes(), e.person, e.occurred_at)
            for e in events
        ]
    return Prepared(records=records, received_at=received_at)


def commit(
    requests: Sequence[Prepared],
    *,
    log: EventLog,
    dedupe: Dedupe,
    counters: Counters | None = None,
) -> list[AcceptResult]:
    """Keep the new events of ``requests`` durably, in order; return once they are durable.

    A message id seen before, or earlier in these requests, is a duplicate and is not kept again.
    """
    items = [(r.key, r.payload) for request in requests for r in request.records]
    if not items:
        return [AcceptResult(0, 0, ()) for _ in requests]
    at = max(request.received_at for request in requests)
    fresh = iter(dedupe.admit(log, items, at=at))
    results: list[AcceptResult] = []
    hits: list[tuple[str, dt.datetime]] = []
    for request in requests:
        accepted = 0
        for record in request.records:
            if next(fresh):
                accepted += 1
                hits.append((record.person, record.occurred_at))
        ids = tuple(r.message_id for r in request.records)
        results.append(AcceptResult(accepted, len(ids) - accepted, ids))
    if counters is not None and hits:
        counters.record(hits)
    return results


def accept(
    body: bytes,
    *,
    endpoint: Endpoint,
    source: str,
    received_at: dt.datetime,
    log: EventLog,
    dedupe: Dedupe,
    counters: Counters | None = None,
    content_encoding: str | None = None,
) -> AcceptResult:
    """Take one Segment HTTP API request; return only once its new events are durable.

    ``endpoint`` is the path's last part (``track``... or ``batch``); ``source`` is the system the
    write key belongs to. A bad request raises ``EventRejected`` and keeps nothing.

    >>> accept(b'{"userId": "u1", "event": "Viewed"}', endpoint="track", source="app",
    ...        received_at=now, log=log, dedupe=dedupe)  # doctest: +SKIP
    AcceptResult(accepted=1, duplicates=0, message_ids=('derived-...',))
    """
    prepared = prepare(
        body,
        endpoint=endpoint,
        source=source,
        received_at=received_at,
        content_encoding=content_encoding,
    )
    [result] = commit([prepared], log=log, dedupe=dedupe, counters=counters)
    return result
