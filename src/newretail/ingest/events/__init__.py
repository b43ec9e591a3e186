"""Segment-compatible event intake: validate, dedupe and durably append; flush the stream to ODS.

>>> from newretail.ingest.events import accept, flush  # doctest: +SKIP
>>> stores = open_stores(settings)  # doctest: +SKIP
>>> accept(body, endpoint="batch", source="app", received_at=now, log=stores.log,
...        dedupe=stores.dedupe, counters=stores.counters)  # doctest: +SKIP
"""

from __future__ import annotations

from newretail.ingest.events.body import MAX_BATCH_BYTES, MAX_EVENT_BYTES, Endpoint
from newretail.ingest.events.contract import VERSION, StoredEvent
from newretail.ingest.events.errors import EventRejected
from newretail.ingest.events.flusher import FlushResult, compact, flush, flush_once
from newretail.ingest.events.service import AcceptResult, Prepared, accept, commit, prepare

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "VERSION",
    "AcceptResult",
    "Endpoint",
    "EventRejected",
    "FlushResult",
    "Prepared",
    "StoredEvent",
    "accept",
    "commit",
    "compact",
    "flush",
    "flush_once",
    "prepare",
]
