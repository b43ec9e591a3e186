"""The background flusher: stream → lake ODS in micro-batches every couple of seconds, in a thread.

Each tick stages what the stream holds (cheap: it writes only the new rows, then acknowledges them);
every :data:`COMPACT_SECONDS`, and on stop, the staged parts are merged into the day partitions,
which rewrites each touched partition once instead of once per tick.

Several server processes may share one stream (Redis): each runs this thread, but only the one holding
the flusher lock (a ``flock`` on a file in NEWRETAIL_HOME) flushes; the others wait to take over if it
dies. The consumer group would keep two flushers correct anyway; the lock keeps them from racing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path

from newretail.api.leader import LeaderLock
from newretail.errors import NewRetailError
from newretail.ingest.events import compact, flush_once
from newretail.lake import Lake
from newretail.stream import EventLog

log = logging.getLogger("newretail.api.flusher")

INTERVAL_SECONDS = 2.0
# How stale the lake may get behind the stream while intake runs: each compaction rewrites the day's
# partitions, whose size grows all day, so it runs this seldom.
COMPACT_SECONDS = 30.0
# Entries per micro-batch: each is staged on its own, so small ones cost no more in writes, and keep
# fewer objects alive at once for the garbage collector to walk.
BATCH = 10_000


class BackgroundFlusher:
    """A daemon thread that flushes ``log`` into ``lake`` until :meth:`stop`, which drains once more."""

    def __init__(
        self,
        *,
        log: EventLog,
        lake: Lake,
        lock_path: Path,
        interval: float = INTERVAL_SECONDS,
        compact_every: float = COMPACT_SECONDS,
    ) -> None:
        self._log = log
        self._lake = lake
        self._leader = LeaderLock(lock_path)
        self._interval = interval
        self._compact_every = compact_every
        self._compacted_at = time.monotonic()
        self._consumer = f"api-{socket.gethostname()}-{os.getpid()}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newretail-flusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then (if this process is the flusher) flush what is left."""
        self._stopping.set()
        self._thread.join()
        try:
            if self._leader.held():
                self.drain()
        finally:
            self._leader.release()

    def drain(self, *, until_empty: bool = True) -> int:
        """Stage micro-batches until the stream has nothing new (or, unless ``until_empty``, until
        :meth:`stop` is called), compact when due (always when ``until_empty``); return the entries
        flushed."""
        total = 0
        while True:
            result = flush_once(
                log=self._log, lake=self._lake, consumer=self._consumer, count=BATCH, compact=False
            )
            total += result.entries
            if result.entries < BATCH or (self._stopping.is_set() and not until_empty):
                break
        if until_empty or time.monotonic() - self._compacted_at >= self._compact_every:
            compact(lake=self._lake)
            self._compacted_at = time.monotonic()
        self._log.trim()
        return total

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not self._leader.held():
                continue
            try:
                self.drain(until_empty=False)
            except NewRetailError as error:  # the stream is down: retry on the next tick
                log.warning("flush failed: %s", error)
            except Exception:
                log.exception("flush failed")
