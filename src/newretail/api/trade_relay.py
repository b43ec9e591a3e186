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
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from newretail.api.lake_feeder import LakeFeeder
from newretail.lake import Lake
from newretail.trade import relay

INTERVAL_SECONDS = 2.0
# How stale ODS may get behind the outbox while orders flow: each compaction rewrites the day's
# partitions, whose size grows all day, so it runs this seldom.
COMPACT_SECONDS = 30.0


class OutboxRelay(LakeFeeder):
    """A daemon thread relaying ``database``'s outbox into ``lake`` until :meth:`stop`, which
    drains once more."""

    # The database is down: retry on the next tick.
    transient = (SQLAlchemyError,)

    def __init__(
        self,
        *,
        database: Engine,
        lake: Lake,
        lock_path: Path,
        interval: float = INTERVAL_SECONDS,
        compact_every: float = COMPACT_SECONDS,
    ) -> None:
        super().__init__(
            lock_path=lock_path,
            interval=interval,
            compact_every=compact_every,
            batch=relay.BATCH,
            name="newretail-relay",
        )
        self._database = database
        self._lake = lake

    def _stage_batch(self, limit: int) -> int:
        # The wall clock, read here at the edge: when the rows were relayed.
        now = dt.datetime.now(dt.UTC)
        result = relay.relay_once(self._database, self._lake, now=now, limit=limit, compact=False)
        return result.outbox_rows

    def _merge(self) -> None:
        relay.compact(self._lake)
