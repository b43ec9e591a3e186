"""Key checks remembered for a few seconds per key: write keys for event intake, user keys for the
flash-sale hot path.

Every such request would otherwise open a database transaction just to re-prove the same key; on
SQLite that serialises them all behind one write lock, and at thousands of reservations a second no
database could keep up. The price: a revoked or expired key keeps working for at most
:data:`TTL_SECONDS` more, and a user's new role takes as long to apply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from newretail.security import (
    Principal,
    SourceWriter,
    authenticate_user_key,
    authenticate_write_key,
)

TTL_SECONDS = 5.0
_MAX_ENTRIES = 10_000
Holder = TypeVar("Holder", Principal, SourceWriter)


class KeyCache(Generic[Holder]):
    """Successful checks by the key's digest, each trusted for ``ttl`` seconds."""

    def __init__(
        self,
        engine: Engine,
        check: Callable[[Connection, str, dt.datetime], Holder],
        *,
        ttl: float = TTL_SECONDS,
    ) -> None:
        self._engine = engine
        self._check: Callable[[Connection, str, dt.datetime], Holder] = check
        self._ttl = ttl
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Holder, float]] = {}
        self._checking: dict[str, asyncio.Future[Holder]] = {}  # used from the event loop only

    def cached(self, presented: str) -> Holder | None:
        """The key's holder if it was checked within the TTL (no I/O: safe on the event loop)."""
        with self._lock:
            hit = self._known.get(_digest(presented))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    async def acheck(self, presented: str, *, now: dt.datetime) -> Holder:
        """The key's holder from the cache, or from one database check on a worker thread that
        every concurrent caller with the same key waits for: when an entry lapses under load,
        thousands of requests in flight must not each open a write transaction."""
        known = self.cached(presented)
        if known is not None:
            return known
        digest = _digest(presented)
        pending = self._checking.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(
                run_in_threadpool(self.authenticate, presented, now=now)
            )
            self._checking[digest] = pending
            pending.add_done_callback(lambda _: self._checking.pop(digest, None))
        return await asyncio.shield(pending)

    def authenticate(self, presented: str, *, now: dt.datetime) -> Holder:
        """Check the key in the database (blocking) and remember the answer for the TTL."""
        with self._engine.begin() as conn:
            holder = self._check(conn, presented, now)
        with self._lock:
            if len(self._known) >= _MAX_ENTRIES:
                self._known.clear()
            self._known[_digest(presented)] = (holder, time.monotonic() + self._ttl)
        return holder


def write_key_cache(engine: Engine) -> KeyCache[SourceWriter]:
    """Write keys of sources sending events (HTTP Basic on ``/v1/*``)."""
    return KeyCache(engine, lambda conn, key, now: authenticate_write_key(conn, key, now=now))


def user_key_cache(engine: Engine) -> KeyCache[Principal]:
    """User API keys (``Bearer nru_…``), for the routes that cannot afford a database round trip."""
    return KeyCache(engine, lambda conn, key, now: authenticate_user_key(conn, key, now=now))


def _digest(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()
