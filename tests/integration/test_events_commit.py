"""Group commit over both twins: many prepared requests kept in one go, each answered on its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence

import pytest
from tests.unit.stream.backends import Backend
from tests.unit.stream.backends import backend as backend

from newretail.api.committer import Committer
from newretail.ingest.events import AcceptResult, Prepared, StoredEvent, commit, prepare
from newretail.stream import Entry, EventLog, Stores, StreamUnavailable

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def _prepared(*ids: str, user: str = "u1") -> Prepared:
    batch = [{"type": "track", "messageId": m, "userId": user, "event": "Tick"} for m in ids]
    body = json.dumps({"batch": batch}).encode()
    return prepare(body, endpoint="batch", source="app", received_at=NOW)


def _logged(backend: Backend) -> list[str]:
    entries = backend.stores.log.read("check", "c", count=1_000)
    return [StoredEvent.from_bytes(e.payload).message_id for e in entries]


def test_one_commit_answers_each_request_and_drops_duplicates_across_them(
    backend: Backend,
) -> None:
    stores = backend.stores
    results = commit(
        [_prepared("a", "b"), _prepared("b", "c"), _prepared()],
        log=stores.log,
        dedupe=stores.dedupe,
        counters=stores.counters,
    )
    assert results == [
        AcceptResult(2, 0, ("a", "b")),
        AcceptResult(1, 1, ("b", "c")),
        AcceptResult(0, 0, ()),
    ]
    assert _logged(backend) == ["a", "b", "c"]
    assert stores.counters.activity("u1", day=NOW.date()).events_on_day == 3


def test_the_committer_groups_concurrent_requests(backend: Backend) -> None:
    committer = Committer(backend.stores)

    async def send() -> list[AcceptResult]:
        requests = [_prepared(f"m{i}", f"m{i + 1}") for i in range(50)]
        return await asyncio.gather(*(committer.commit(p) for p in requests))

    try:
        results = asyncio.run(send())
    finally:
        committer.close()
    assert sum(r.accepted for r in results) == 51
    assert sum(r.duplicates for r in results) == 49
    assert sorted(_logged(backend)) == sorted(f"m{i}" for i in range(51))


class _Down(EventLog):
    """A log whose appends fail, as a Redis that went away."""

    def append(self, payloads: Sequence[bytes]) -> list[str]:
        raise StreamUnavailable("stream.redis_unavailable", "append: Redis unreachable")

    def read(self, group: str, consumer: str, *, count: int) -> list[Entry]:
        return []

    def ack(self, group: str, ids: Sequence[str]) -> None:
        pass

    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        return []

    def trim(self) -> int:
        return 0

    def close(self) -> None:
        pass


def test_a_failed_commit_fails_every_request_of_it_and_keeps_nothing(backend: Backend) -> None:
    stores = backend.stores
    committer = Committer(Stores(log=_Down(), dedupe=stores.dedupe, counters=stores.counters))

    async def send() -> list[AcceptResult | BaseException]:
        requests = [_prepared(f"m{i}") for i in range(5)]
        return await asyncio.gather(
            *(committer.commit(p) for p in requests), return_exceptions=True
        )

    try:
        outcomes = asyncio.run(send())
    finally:
        committer.close()
    assert all(isinstance(o, StreamUnavailable) for o in outcomes)
    # Nothing was remembered: the retry goes through whole.
    assert commit([_prepared("m0")], log=stores.log, dedupe=stores.dedupe)[0].accepted == 1
    with pytest.raises(StreamUnavailable):
        asyncio.run(committer.commit(_prepared("late")))
