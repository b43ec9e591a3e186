"""The background outbox relay: orders and refunds from OLTP's ``trade_outbox`` to the lake's ODS
every couple of seconds, in a thread.

Each tick stages what the outbox holds (only the new rows are written) and marks it relayed; every
:data:`COMPACT_SECONDS`, and on stop, the staged parts are merged into the day partitions, which
rewrites each touched partition once instead of once per tick.

Several server processes may share one database: each runs this thread, but only the one holding
the relay lock (an ``flock`` on a file in NEWRETAIL_HOME, see :mod:`~newretail.api.leader`) relays;
the others wait to take over if it dies. Two relays would still be correct (the lake keeps one row
per key); the lock keeps them from doing the work twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from newretail.api.leader import LeaderLock
from newretail.lake import Lake
from newretail.trade import relay

log = logging.getLogger("newretail.api.trade_relay")

INTERVAL_SECONDS = 2.0
# How stale ODS may get behind the outbox while orders flow: each compaction rewrites the day's
# partitions, whose size grows all day, so it runs this seldom.
COMPACT_SECONDS = 30.0


class OutboxRelay:
    """A daemon thread relaying ``database``'s outbox into ``lake`` until :meth:`stop`, which
    drains once more."""

    def __init__(
        self,
        *,
        database: Engine,
        lake: Lake,
        lock_path: Path,
        interval: float = INTERVAL_SECONDS,
        compact_every: float = COMPACT_SECONDS,
    ) -> None:
        self._database = database
        self._lake = lake
        self._leader = LeaderLock(lock_path)
        self._interval = interval
        self._compact_every = compact_every
        self._compacted_at = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newretail-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then (if this process is the relay) relay and merge what is left."""
        self._stopping.set()
        self._thread.join()
        try:
            if self._leader.held():
                self.drain()
        finally:
            self._leader.release()

    def drain(self, *, until_empty: bool = True) -> int:
        """Relay batches until the outbox has nothing unrelayed (or, unless ``until_empty``, until
        :meth:`stop` is called), merge when due (always when ``until_empty``); return the outbox rows
        relayed."""
        total = 0
        while True:
            # The wall clock, read here at the edge: when the rows were relayed.
            now = dt.datetime.now(dt.UTC)
            result = relay.relay_once(
                self._database, self._lake, now=now, limit=relay.BATCH, compact=False
            )
            total += result.outbox_rows
            if result.outbox_rows < relay.BATCH or (self._stopping.is_set() and not until_empty):
                break
        if until_empty or time.monotonic() - self._compacted_at >= self._compact_every:
            relay.compact(self._lake)
            self._compacted_at = time.monotonic()
        return total

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not self._leader.held():
                continue
            try:
                self.drain(until_empty=False)
            except SQLAlchemyError as error:  # the database is down: retry on the next tick
                log.warning("trade.relay_failed: %s", error)
            except Exception:
                log.exception("trade.relay_failed")
