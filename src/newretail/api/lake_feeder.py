"""What the event flusher and the outbox relay share: a daemon thread that, while this process holds
a leader lock, moves what has arrived into the lake's staging every couple of seconds and merges the
staged parts into day partitions now and then, and drains once more when stopped.

Merging rewrites each touched day partition, whose size grows all day, so it runs every
``compact_every`` seconds rather than every tick. Several server processes may run the thread; only
the one holding the lock (an ``flock`` on a file in NEWRETAIL_HOME, see :mod:`~newretail.api.leader`)
moves anything, and the others take over if it dies.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

from newretail.api.leader import LeaderLock

log = logging.getLogger("newretail.api.lake_feeder")


class LakeFeeder(ABC):
    """Subclasses say how one batch is staged (:meth:`_stage_batch`), how staged parts are merged
    (:meth:`_merge`) and which errors are passing (:attr:`transient`: logged, retried next tick)."""

    transient: tuple[type[Exception], ...] = ()

    def __init__(
        self, *, lock_path: Path, interval: float, compact_every: float, batch: int, name: str
    ) -> None:
        self._leader = LeaderLock(lock_path)
        self._interval = interval
        self._compact_every = compact_every
        self._batch = batch
        self._compacted_at = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @abstractmethod
    def _stage_batch(self, limit: int) -> int:
        """Stage up to ``limit`` new items; how many were staged."""

    @abstractmethod
    def _merge(self) -> None:
        """Merge the staged parts into the lake's day partitions."""

    def _after_drain(self) -> None:  # noqa: B027 - a hook with nothing to do by default
        """Housekeeping once a drain has caught up."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then (if this process is the leader) drain what is left."""
        self._stopping.set()
        self._thread.join()
        try:
            if self._leader.held():
                self.drain()
        finally:
            self._leader.release()

    def drain(self, *, until_empty: bool = True) -> int:
        """Stage batches until nothing new is left (or, unless ``until_empty``, until :meth:`stop`
        is called), merge when due (always when ``until_empty``); return the items staged."""
        total = 0
        while True:
            staged = self._stage_batch(self._batch)
            total += staged
            if staged < self._batch or (self._stopping.is_set() and not until_empty):
                break
        if until_empty or time.monotonic() - self._compacted_at >= self._compact_every:
            self._merge()
            self._compacted_at = time.monotonic()
        self._after_drain()
        return total

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not self._leader.held():
                continue
            try:
                self.drain(until_empty=False)
            except self.transient as error:
                log.warning("%s failed, retrying: %s", self._thread.name, error)
            except Exception:
                log.exception("%s failed", self._thread.name)
