"""Flash-sale background work in the server: expire unpaid reservations about every second and write
the engine's order records into OLTP orders, in one daemon thread (with the in-process engine, also
load sales armed from another process, the CLI, every few seconds).

Every server process starts this thread; the one holding the worker lock (an ``flock`` in
NEWRETAIL_HOME, see :mod:`~newretail.api.leader`) does the work, the others wait to take over. The
order writer is named after its process and claims what a dead one left pending once that has been
idle for :data:`CLAIM_IDLE_MS`, so a worker killed mid-batch loses nothing: its batch is written
again (writing again changes nothing). The expiry sweep is one Redis script per sale, safe from any
process; one sweeper is simply enough.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from pathlib import Path

from sqlalchemy import Engine

from newretail.api.leader import LeaderLock
from newretail.errors import NewRetailError
from newretail.flashsale import FlashSaleEngine, OrderWriter, restore_engine

log = logging.getLogger("newretail.api.flashsale")

SWEEP_SECONDS = 1.0
TRIM_SECONDS = 30.0
ARM_SECONDS = 5.0
IDLE_SECONDS = 0.05
# Only the lock holder consumes, so an entry pending this long belongs to a consumer that died.
CLAIM_IDLE_MS = 5_000


class FlashSaleWorker:
    """The sweep and the order writer for ``engine`` into ``database``, until :meth:`stop`."""

    def __init__(
        self,
        *,
        engine: FlashSaleEngine,
        database: Engine,
        lock_path: Path,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._engine = engine
        self._database = database
        self._leader = LeaderLock(lock_path)
        self._sweep_seconds = sweep_seconds
        self._writer = OrderWriter(
            engine.order_log,
            database,
            consumer=f"api-{socket.gethostname()}-{os.getpid()}",
            claim_idle_ms=CLAIM_IDLE_MS,
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newretail-flashsale", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; the lock holder then writes whatever orders are left."""
        self._stopping.set()
        self._thread.join()
        try:
            if self._leader.held():
                self._writer.drain()
        except NewRetailError as error:
            log.warning("flashsale.writer_stop_failed: %s", error)
        finally:
            self._leader.release()

    def _run(self) -> None:
        next_sweep = next_arm = time.monotonic()
        next_trim = next_sweep + TRIM_SECONDS  # the log exists once something has been written
        while not self._stopping.is_set():
            if not self._leader.held():
                self._stopping.wait(1.0)
                continue
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_seconds
                    # The wall clock, read here at the edge as the API reads it for each request.
                    self._engine.expire_due(now=dt.datetime.now(dt.UTC))
                if not self._engine.rebuilds_from_log and time.monotonic() >= next_trim:
                    next_trim = time.monotonic() + TRIM_SECONDS
                    self._engine.order_log.trim()
                if self._engine.rebuilds_from_log and time.monotonic() >= next_arm:
                    # A sale armed from the CLI is armed in OLTP only: this process holds the
                    # engine's state, so it loads the sale. (Redis holds one state for everyone;
                    # re-arming there after Redis lost its data would sell the stock twice.)
                    next_arm = time.monotonic() + ARM_SECONDS
                    restore_engine(self._database, self._engine)
                if not self._writer.step():
                    self._stopping.wait(IDLE_SECONDS)
            except NewRetailError as error:  # Redis or the database is down: try again shortly
                log.warning("flashsale.worker_failed: %s", error)
                self._stopping.wait(1.0)
            except Exception:
                log.exception("flashsale.worker_failed")
                self._stopping.wait(1.0)
