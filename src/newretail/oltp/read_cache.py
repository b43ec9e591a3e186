"""A small in-process cache of rows that change seldom but are read on every order (the checkout
catalogue, membership schemes), kept per database engine.

How stale it can be: an entry is served for at most ``ttl`` (:data:`TTL`, by the callers' ``now``;
a ``now`` earlier than the entry's misses). A write this process makes to a cached table, announced
with :func:`invalidate` in the writing transaction, empties that table's caches at once and again
when the connection goes back to the pool (after the commit), and the writing transaction reads
past them meanwhile: so neither its uncommitted rows nor rows read before its commit are served
afterwards. Writes by another process (another API worker, the CLI) or by hand are seen at most
``ttl`` late.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, event

TTL = dt.timedelta(seconds=5)
_MAX_ENTRIES = 10_000
# In Connection.info (which lives with the pooled DBAPI connection): the cached tables this
# connection has written and not yet handed back to the pool.
_WRITTEN = "newretail.read_cache.written"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_lock = threading.Lock()
_caches: weakref.WeakSet[ReadCache[Any, Any]] = weakref.WeakSet()


class ReadCache(Generic[K, V]):
    """Values by key, per engine, each trusted for ``ttl`` after it was loaded; a key the loader
    does not answer is remembered as absent."""

    def __init__(self, tables: Collection[str], *, ttl: dt.timedelta = TTL) -> None:
        self.tables = frozenset(tables)
        self._ttl = ttl
        self._entries: weakref.WeakKeyDictionary[Engine, dict[K, tuple[V | None, dt.datetime]]]
        self._entries = weakref.WeakKeyDictionary()
        self._generation = 0  # bumped by every clear: a load that straddles one is not kept
        with _lock:
            _caches.add(self)

    def get_many(
        self,
        conn: Connection,
        keys: Iterable[K],
        *,
        now: dt.datetime,
        load: Callable[[Connection, list[K]], Mapping[K, V]],
    ) -> dict[K, V]:
        """The values of ``keys`` that exist; ``load`` reads those not cached (or all of them, in a
        transaction that wrote a cached table) in ``conn``."""
        wanted = list(dict.fromkeys(keys))
        if self.tables & conn.info.get(_WRITTEN, frozenset()):
            loaded = load(conn, wanted)
            return {key: loaded[key] for key in wanted if key in loaded}
        found: dict[K, V] = {}
        missing: list[K] = []
        with _lock:
            entries = self._entries.get(conn.engine, {})
            generation = self._generation
            for key in wanted:
                hit = entries.get(key)
                if hit is None or not hit[1] <= now < hit[1] + self._ttl:
                    missing.append(key)
                elif hit[0] is not None:
                    found[key] = hit[0]
        if not missing:
            return found
        loaded = load(conn, missing)
        with _lock:
            if generation == self._generation:
                entries = self._entries.setdefault(conn.engine, {})
                if len(entries) + len(missing) > _MAX_ENTRIES:
                    entries.clear()
                entries.update((key, (loaded.get(key), now)) for key in missing)
        found.update((key, loaded[key]) for key in missing if key in loaded)
        return found

    def get(
        self,
        conn: Connection,
        key: K,
        *,
        now: dt.datetime,
        load: Callable[[Connection, K], V | None],
    ) -> V | None:
        """The value of ``key``, or None when it does not exist."""

        def load_one(conn: Connection, keys: list[K]) -> dict[K, V]:
            value = load(conn, keys[0])
            return {} if value is None else {keys[0]: value}

        return self.get_many(conn, [key], now=now, load=load_one).get(key)

    def clear(self) -> None:
        with _lock:
            self._entries.clear()
            self._generation += 1


def invalidate(conn: Connection, *tables: str) -> None:
    """Forget what the caches hold of ``tables``: call it in the transaction that writes them."""
    written = conn.info.setdefault(_WRITTEN, set())
    written.update(tables)
    pool = conn.engine.pool
    if not event.contains(pool, "checkin", _checked_in):
        event.listen(pool, "checkin", _checked_in)
    _clear(tables)


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    tables = record.info.pop(_WRITTEN, None) if record is not None else None
    if tables:
        _clear(tables)


def _clear(tables: Iterable[str]) -> None:
    names = set(tables)
    with _lock:
        caches = [cache for cache in _caches if cache.tables & names]
    for cache in caches:
        cache.clear()
