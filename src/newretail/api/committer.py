"""Group commit for event intake: requests are validated on the event loop, one thread keeps them.

The thread takes every request queued since its last commit and commits them together: one dedupe
check, one append and the one fsync that covers it (or one Redis round trip), then wakes the waiting
requests with one call into their loop. Each request's 200 still follows the fsync (or Redis reply)
that covers its events. One thread rather than a pool: a pool's threads would only queue for the GIL
and the log's lock, and every request would pay a thread hop for work that is mostly the loop's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence

from newretail.ingest.events import AcceptResult, Prepared, commit
from newretail.stream import Stores, StreamUnavailable

# Events per commit: enough to share one fsync among hundreds of requests, few enough that the
# requests at the end of a group do not wait long for the ones before them.
MAX_GROUP_EVENTS = 5_000

_Waiter = tuple[Prepared, asyncio.Future[AcceptResult], asyncio.AbstractEventLoop]


class Committer:
    """Commits prepared requests to ``stores`` from one daemon thread until :meth:`close`."""

    def __init__(self, stores: Stores, *, max_group_events: int = MAX_GROUP_EVENTS) -> None:
        self._stores = stores
        self._max_group_events = max_group_events
        self._queue: list[_Waiter] = []
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="newretail-intake", daemon=True)
        self._thread.start()

    async def commit(self, prepared: Prepared) -> AcceptResult:
        """Keep ``prepared`` durably; return once its new events are durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AcceptResult] = loop.create_future()
        with self._wake:
            if self._closed:
                raise StreamUnavailable("stream.closing", "the server is shutting down; retry")
            self._queue.append((prepared, future, loop))
            self._wake.notify()
        return await future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:
                    return
                group = self._take()
            self._commit(group)

    def _take(self) -> list[_Waiter]:
        """Queued requests, oldest first, up to the group size (always at least one)."""
        events = 0
        cut = 0
        for prepared, _, _ in self._queue:
            events += len(prepared.records)
            cut += 1
            if events >= self._max_group_events:
                break
        group, self._queue = self._queue[:cut], self._queue[cut:]
        return group

    def _commit(self, group: list[_Waiter]) -> None:
        stores = self._stores
        try:
            results: Sequence[AcceptResult | Exception] = commit(
                [prepared for prepared, _, _ in group],
                log=stores.log,
                dedupe=stores.dedupe,
                counters=stores.counters,
            )
        except Exception as error:  # the stores failed: every request of the group gets the error
            results = [error] * len(group)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[AcceptResult], object]]]
        by_loop = {}
        for (_, future, loop), outcome in zip(group, results, strict=True):
            by_loop.setdefault(loop, []).append((future, outcome))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[AcceptResult], object]]) -> None:
    for future, outcome in settled:
        if future.cancelled():  # the client went away; its events are kept all the same
            continue
        if isinstance(outcome, AcceptResult):
            future.set_result(outcome)
        else:
            assert isinstance(outcome, Exception)
            future.set_exception(outcome)
