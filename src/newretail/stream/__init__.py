"""The event stream: a durable log with consumer groups, message dedupe and per-person counters.

Each store has an embedded twin (files and SQLite under NEWRETAIL_HOME/stream, or memory) and a
Redis twin; :func:`open_stores` picks by ``NEWRETAIL_REDIS_URL``.
"""

from __future__ import annotations

from newretail.stream.base import Entry, EventLog, StreamUnavailable
from newretail.stream.counters import Activity, Counters, MemoryCounters
from newretail.stream.dedupe import Dedupe, SqliteDedupe
from newretail.stream.factory import Stores, open_stores
from newretail.stream.filelog import FileEventLog

__all__ = [
    "Activity",
    "Counters",
    "Dedupe",
    "Entry",
    "EventLog",
    "FileEventLog",
    "MemoryCounters",
    "SqliteDedupe",
    "Stores",
    "StreamUnavailable",
    "open_stores",
]
