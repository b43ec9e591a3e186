"""Write-key checks for event intake, remembered for a few seconds per key.

Every intake request would otherwise open a database transaction just to re-prove the same key; on
SQLite that serialises all intake behind one write lock. The price: a revoked or expired key keeps
working for at most :data:`TTL` more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time

from sqlalchemy import Engine

from newretail.security import SourceWriter, authenticate_write_key

TTL_SECONDS = 5.0
_MAX_ENTRIES = 10_000


class WriteKeyCache:
    """Successful write-key checks by the key's digest, each trusted for ``ttl`` seconds."""

    def __init__(self, engine: Engine, *, ttl: float = TTL_SECONDS) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._known: dict[str, tuple[SourceWriter, float]] = {}

    def cached(self, presented: str) -> SourceWriter | None:
        """The key's source if it was checked within the TTL (no I/O: safe on the event loop)."""
        with self._lock:
            hit = self._known.get(_digest(presented))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def authenticate(self, presented: str, *, now: dt.datetime) -> SourceWriter:
        """Check the key in the database (blocking) and remember the answer for the TTL."""
        with self._engine.begin() as conn:
            writer = authenticate_write_key(conn, presented, now=now)
        with self._lock:
            if len(self._known) >= _MAX_ENTRIES:
                self._known.clear()
            self._known[_digest(presented)] = (writer, time.monotonic() + self._ttl)
        return writer


def _digest(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()
