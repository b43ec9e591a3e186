"""When each sale is open, remembered for a couple of seconds per server process: the reservation
route asks it before the gate, so a click before the start or after the end is refused without
taking a place in the waiting room, and a made-up sale id is refused without touching Redis.

The engine still decides every reservation by its own copy of the window; this copy only keeps the
waiting room for sales that are open. A sale closed early is seen here within :data:`TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from newretail.errors import NotFound
from newretail.flashsale import SaleStatus, get_sale
from newretail.flashsale.records import to_millis

TTL_SECONDS = 2.0
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Window:
    """An armed sale's window in ms since the epoch; ``None`` stands for no armed sale."""

    starts_ms: int
    ends_ms: int

    def open_at(self, now_ms: int) -> bool:
        return self.starts_ms <= now_ms < self.ends_ms


class SaleWindows:
    """Windows of armed sales read from ``database``; use it from one event loop."""

    def __init__(self, database: Engine, *, ttl: float = TTL_SECONDS) -> None:
        self._database = database
        self._ttl = ttl
        self._known: dict[str, tuple[Window | None, float]] = {}
        self._reading: dict[str, asyncio.Future[Window | None]] = {}

    async def window(self, sale_id: str) -> Window | None:
        """The sale's window, or None when there is no armed sale of that id. Concurrent callers
        share one database read."""
        hit = self._known.get(sale_id)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        pending = self._reading.get(sale_id)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(self._read, sale_id))
            self._reading[sale_id] = pending
            pending.add_done_callback(lambda _: self._reading.pop(sale_id, None))
        return await asyncio.shield(pending)

    def _read(self, sale_id: str) -> Window | None:
        try:
            with self._database.connect() as conn:
                sale = get_sale(conn, sale_id)
        except NotFound:
            found = None
        else:
            armed = sale.status is SaleStatus.ARMED
            found = Window(to_millis(sale.starts_at), to_millis(sale.ends_at)) if armed else None
        if len(self._known) >= _MAX_ENTRIES:  # made-up ids must not grow this without bound
            self._known.clear()
        self._known[sale_id] = (found, time.monotonic() + self._ttl)
        return found
