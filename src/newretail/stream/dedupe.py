"""Which message keys were already accepted within a retention window: the interface and its SQLite twin.

The dedupe store is a filter in front of the log, not the guarantee: intake remembers keys only after
the append is durable, so a crash in between lets a retry through, and the lake's key removes it.
:meth:`Dedupe.admit` is that whole step (check, append, remember) for many requests at once; a twin
that can do it atomically in one round trip (Redis) overrides it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from newretail.stream.base import EventLog

DEFAULT_RETENTION = dt.timedelta(days=7)
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit
_PURGE_EVERY = 10_000  # remembered keys between sweeps of expired ones


def _micros(at: dt.datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("dedupe times must be timezone-aware")
    return int(at.timestamp() * 1_000_000)


class Dedupe(ABC):
    """Keys seen in the last ``retention``; a key older than that counts as new again."""

    retention: dt.timedelta

    @abstractmethod
    def seen(self, keys: Sequence[str], *, now: dt.datetime) -> set[str]:
        """The subset of ``keys`` remembered within the retention window before ``now``."""

    @abstractmethod
    def remember(self, keys: Sequence[str], *, at: dt.datetime) -> None:
        """Record ``keys`` as accepted at ``at``."""

    @abstractmethod
    def close(self) -> None:
        """Release files or connections."""

    def admit(
        self, log: EventLog, items: Sequence[tuple[str, bytes]], *, at: dt.datetime
    ) -> list[bool]:
        """Append durably to ``log`` the payloads whose key is new (not seen within the retention, and
        the first of its key among ``items``), then remember those keys; return which were appended.

        >>> dedupe.admit(log, [("app:m1", b"{...}"), ("app:m1", b"{...}")], at=now)  # doctest: +SKIP
        [True, False]
        """
        taken = self.seen(list(dict.fromkeys(key for key, _ in items)), now=at)
        flags: list[bool] = []
        fresh: list[str] = []
        payloads: list[bytes] = []
        for key, payload in items:
            new = key not in taken
            flags.append(new)
            if new:
                taken.add(key)
                fresh.append(key)
                payloads.append(payload)
        # Durable first, remembered second: a crash in between lets a retry through (the lake's key
        # drops it) instead of losing an event whose retry would be refused as a duplicate.
        if payloads:
            log.append(payloads)
            self.remember(fresh, at=at)
        return flags


class SqliteDedupe(Dedupe):
    """Keys in a SQLite file (WAL); shared safely by threads and by processes on one machine."""

    def __init__(self, path: Path, *, retention: dt.timedelta = DEFAULT_RETENTION) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.retention = retention
        self._lock = threading.Lock()
        self._since_purge = 0
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL skips the fsync per commit: a key lost to a power cut only lets a duplicate
        # through to the lake, whose key drops it.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID"
        )

    def seen(self, keys: Sequence[str], *, now: dt.datetime) -> set[str]:
        floor = _micros(now - self.retention)
        found: set[str] = set()
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key FROM seen WHERE key IN ({marks}) AND at >= ?", [*chunk, floor]
                )
                found.update(row[0] for row in rows)
        return found

    def remember(self, keys: Sequence[str], *, at: dt.datetime) -> None:
        stamp = _micros(at)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO seen (key, at) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET at = max(at, excluded.at)",
                    [(key, stamp) for key in keys],
                )
                self._since_purge += len(keys)
                if self._since_purge >= _PURGE_EVERY:
                    self._db.execute(
                        "DELETE FROM seen WHERE at < ?", [_micros(at - self.retention)]
                    )
                    self._since_purge = 0
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
