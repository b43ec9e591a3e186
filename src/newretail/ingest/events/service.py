"""The intake service the HTTP router calls: validate a request whole, drop duplicates, append durably."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from newretail.ingest.events.body import Endpoint, read_body
from newretail.ingest.events.contract import StoredEvent
from newretail.ingest.events.normalise import to_stored, validate
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
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    if source not in codes.SOURCES:
        raise ValueError(f"unknown source {source!r}")
    request = read_body(body, endpoint=endpoint, content_encoding=content_encoding)
    validated = validate(request, endpoint=endpoint)
    received_at = received_at.astimezone(dt.UTC)
    events = [
        to_stored(message, raw, shared=request.shared, source=source, received_at=received_at)
        for (_, message), (_, raw) in zip(validated, request.messages, strict=True)
    ]
    fresh = _fresh(events, dedupe.seen([e.dedupe_key for e in events], now=received_at))
    # Durable first, remembered second: a crash in between lets a retry through (the lake's key
    # drops it) instead of losing an event whose retry would be refused as a duplicate.
    log.append([event.to_bytes() for event in fresh])
    dedupe.remember([event.dedupe_key for event in fresh], at=received_at)
    if counters is not None:
        counters.record((event.person, event.occurred_at) for event in fresh)
    return AcceptResult(
        accepted=len(fresh),
        duplicates=len(events) - len(fresh),
        message_ids=tuple(event.message_id for event in events),
    )


def _fresh(events: list[StoredEvent], seen: set[str]) -> list[StoredEvent]:
    """Events not seen before, the first of any repeated within the request."""
    out: list[StoredEvent] = []
    taken = set(seen)
    for event in events:
        if event.dedupe_key not in taken:
            taken.add(event.dedupe_key)
            out.append(event)
    return out
