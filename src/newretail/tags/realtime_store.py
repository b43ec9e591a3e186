"""Where real-time tag signals live: one bitmap of dense person ids per signal and UTC day.

Two twins behind :class:`RealtimeTagStore`: :class:`InProcessTagStore` (pyroaring bitmaps in a dict,
optionally saved to files so a restarted process keeps the day) and
:class:`~newretail.tags.realtime_redis.RedisTagStore` (Redis native bitmaps, one key per signal
and day, expiring). :func:`open_realtime_store` picks by ``NEWRETAIL_REDIS_URL``. The in-process
twin serves only the process that holds it: several server processes need Redis.
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyroaring import BitMap

from newretail.config import Settings
from newretail.lake.storage import replacing

# Days a signal's bitmap is kept after its day: how far behind the nightly refresh may fall before a
# toggle loses the changes since its snapshot, and how late an event may still count.
KEEP_DAYS = 8
_SUFFIX = ".roaring"


@dataclass(frozen=True, slots=True)
class Change:
    """Set (``value`` True) or clear the bits of ``ids`` in the bitmap of ``signal`` on ``day``."""

    signal: str
    day: dt.date
    ids: BitMap
    value: bool = True


class RealtimeTagStore(ABC):
    """Bitmaps of dense ids per (signal, UTC day); days older than :attr:`keep_days` go."""

    keep_days: int = KEEP_DAYS

    @abstractmethod
    def apply(self, changes: Sequence[Change]) -> None:
        """Apply ``changes`` in order, together: a reader sees all of them or none."""

    @abstractmethod
    def bitmap(self, signal: str, day: dt.date) -> BitMap:
        """The ids set for ``signal`` on ``day`` (empty if none), a copy the caller may change."""

    def bitmaps(self, signal: str, days: Iterable[dt.date]) -> list[BitMap]:
        """:meth:`bitmap` of each day, in order."""
        return [self.bitmap(signal, day) for day in days]

    @abstractmethod
    def close(self) -> None:
        """Release connections (the in-process twin's data stays on disk, if it has a folder)."""


class InProcessTagStore(RealtimeTagStore):
    """Bitmaps in memory behind a lock; with ``root``, each bitmap a change touches is also written
    (atomically) to ``root/<signal>/<day>.roaring`` before :meth:`apply` returns, and read back on
    opening, so that state survives a restart as the event log's acknowledgements do.

    >>> store = InProcessTagStore()
    >>> store.apply([Change("ordered", dt.date(2026, 5, 1), BitMap([3, 7]))])
    >>> list(store.bitmap("ordered", dt.date(2026, 5, 1)))
    [3, 7]
    """

    def __init__(self, root: Path | None = None, *, keep_days: int = KEEP_DAYS) -> None:
        self.keep_days = keep_days
        self._root = root
        self._lock = threading.Lock()
        self._bitmaps: dict[tuple[str, dt.date], BitMap] = {}
        if root is not None:
            self._load(root)

    def apply(self, changes: Sequence[Change]) -> None:
        touched: set[tuple[str, dt.date]] = set()
        with self._lock:
            # Copy on write: a reader holding a bitmap from before never sees half a batch.
            fresh: dict[tuple[str, dt.date], BitMap] = {}
            for change in changes:
                key = (change.signal, change.day)
                if key not in fresh:
                    fresh[key] = self._bitmaps.get(key, BitMap()).copy()
                if change.value:
                    fresh[key] |= change.ids
                else:
                    fresh[key] -= change.ids
                touched.add(key)
            if self._root is not None:
                for key in sorted(touched):
                    self._save(self._root, key, fresh[key])
            self._bitmaps.update(fresh)
            self._prune()

    def bitmap(self, signal: str, day: dt.date) -> BitMap:
        with self._lock:
            found = self._bitmaps.get((signal, day))
            return BitMap() if found is None else found.copy()

    def close(self) -> None:
        pass

    # -- internals ---------------------------------------------------------------------------
    def _prune(self) -> None:
        if not self._bitmaps:
            return
        newest = max(day for _, day in self._bitmaps)
        for key in [k for k in self._bitmaps if k[1] < newest - dt.timedelta(days=self.keep_days)]:
            del self._bitmaps[key]
            if self._root is not None:
                _path(self._root, key).unlink(missing_ok=True)

    @staticmethod
    def _save(root: Path, key: tuple[str, dt.date], bitmap: BitMap) -> None:
        path = _path(root, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path, suffix=_SUFFIX) as handle:
            handle.write(bitmap.serialize())

    def _load(self, root: Path) -> None:
        for path in root.glob(f"*/*{_SUFFIX}"):
            if path.name.startswith("."):
                continue  # a temporary a killed writer left
            try:
                day = dt.date.fromisoformat(path.name.removesuffix(_SUFFIX))
            except ValueError:
                continue
            self._bitmaps[(path.parent.name, day)] = BitMap.deserialize(path.read_bytes())
        self._prune()


def _path(root: Path, key: tuple[str, dt.date]) -> Path:
    return root / key[0] / f"{key[1].isoformat()}{_SUFFIX}"


def open_realtime_store(settings: Settings, *, prefix: str = "newretail:") -> RealtimeTagStore:
    """The store the settings select: Redis when ``NEWRETAIL_REDIS_URL`` is set, else in-process
    with its files under ``NEWRETAIL_HOME/tags_realtime``.

    >>> store = open_realtime_store(get_settings())  # doctest: +SKIP
    """
    if settings.redis_url:
        from newretail.stream.redis_conn import connect
        from newretail.tags.realtime_redis import RedisTagStore

        return RedisTagStore(connect(settings.redis_url), prefix=prefix)
    return InProcessTagStore(settings.home / "tags_realtime")
