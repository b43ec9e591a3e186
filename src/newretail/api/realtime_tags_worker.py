"""Real-time tags in the server: a daemon thread that keeps the real-time tag store up with the
event log: a pass every :data:`IDLE_SECONDS`, or at once after a pass that took a full batch. (Each
pass looks its persons up in the snapshot's key map, a scan of some 70 ms at 10M persons, so
passes are paced rather than run per event; an event shows in counts within about a second.)

Every server process starts this thread; the one holding the worker lock (an ``flock`` in
NEWRETAIL_HOME, see :mod:`~newretail.api.leader`) consumes, the others wait to take over. The new
holder first replays what the previous one left unacknowledged, so a takeover loses nothing and,
bits being set and cleared idempotently, changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from pathlib import Path

from sqlalchemy import Engine

from newretail.api.leader import LeaderLock
from newretail.errors import NewRetailError
from newretail.stream import EventLog
from newretail.tags.realtime_consumer import ConsumerStats, RealtimeTagConsumer
from newretail.tags.realtime_store import RealtimeTagStore

log = logging.getLogger("newretail.api.realtime_tags")

IDLE_SECONDS = 0.5
RETRY_SECONDS = 1.0
# Only the lock holder consumes, so an entry pending this long belongs to a consumer that died.
CLAIM_IDLE_MS = 5_000


class RealtimeTagsWorker:
    """Consumes ``log`` into ``store`` until :meth:`stop`; ``database`` is the OLTP engine."""

    def __init__(
        self,
        *,
        log: EventLog,
        store: RealtimeTagStore,
        database: Engine,
        index_dir: Path,
        lock_path: Path,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._leader = LeaderLock(lock_path)
        self._idle_seconds = idle_seconds
        self._consumer = RealtimeTagConsumer(
            log=log,
            store=store,
            database=database,
            index_dir=index_dir,
            consumer=f"api-{socket.gethostname()}-{os.getpid()}",
            claim_idle_ms=CLAIM_IDLE_MS,
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newretail-rtags", daemon=True)

    @property
    def stats(self) -> ConsumerStats:
        """What this process's consumer has done since it started (zeros unless it leads)."""
        return self._consumer.stats

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and give up the lock; what is left is the next holder's."""
        self._stopping.set()
        self._thread.join()
        self._leader.release()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._leader.held():
                self._stopping.wait(RETRY_SECONDS)
                continue
            try:
                # The wall clock, read here at the edge: which UTC day is today.
                handled = self._consumer.step(today=dt.datetime.now(dt.UTC).date())
                if handled < self._consumer.batch:
                    self._stopping.wait(self._idle_seconds)
            except NewRetailError as error:  # Redis or the database is down: try again shortly
                log.warning("tags.realtime.worker_failed: %s", error)
                self._stopping.wait(RETRY_SECONDS)
            except Exception:
                log.exception("tags.realtime.worker_failed")
                self._stopping.wait(RETRY_SECONDS)
