"""The background flusher: stream → lake ODS in micro-batches every couple of seconds, in a thread.

Each tick stages what the stream holds (cheap: it writes only the new rows, then acknowledges them);
every :data:`COMPACT_SECONDS`, and on stop, the staged parts are merged into the day partitions,
which rewrites each touched partition once instead of once per tick.

Several server processes may share one stream (Redis): each runs this thread, but only the one holding
the flusher lock (a ``flock`` on a file in NEWRETAIL_HOME) flushes; the others wait to take over if it
dies. The consumer group would keep two flushers correct anyway; the lock keeps them from racing.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from newretail.api.lake_feeder import LakeFeeder
from newretail.errors import NewRetailError
from newretail.ingest.events import compact, flush_once
from newretail.lake import Lake
from newretail.stream import EventLog

INTERVAL_SECONDS = 2.0
# How stale the lake may get behind the stream while intake runs: each compaction rewrites the day's
# partitions, whose size grows all day, so it runs this seldom.
COMPACT_SECONDS = 30.0
# Entries per micro-batch: each is staged on its own, so small ones cost no more in writes, and keep
# fewer objects alive at once for the garbage collector to walk.
BATCH = 10_000


class BackgroundFlusher(LakeFeeder):
    """A daemon thread that flushes ``log`` into ``lake`` until :meth:`stop`, which drains once more."""

    # The stream is down: retry on the next tick.
    transient = (NewRetailError,)

    def __init__(
        self,
        *,
        log: EventLog,
        lake: Lake,
        lock_path: Path,
        interval: float = INTERVAL_SECONDS,
        compact_every: float = COMPACT_SECONDS,
    ) -> None:
        super().__init__(
            lock_path=lock_path,
            interval=interval,
            compact_every=compact_every,
            batch=BATCH,
            name="newretail-flusher",
        )
        self._log = log
        self._lake = lake
        self._consumer = f"api-{socket.gethostname()}-{os.getpid()}"

    def _stage_batch(self, limit: int) -> int:
        result = flush_once(
            log=self._log, lake=self._lake, consumer=self._consumer, count=limit, compact=False
        )
        return result.entries

    def _merge(self) -> None:
        compact(lake=self._lake)

    def _after_drain(self) -> None:
        self._log.trim()
