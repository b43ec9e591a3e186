"""The stream stores' contract, run over both twins: the embedded files and Redis."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from tests.unit.stream.backends import REDIS_URL, Backend, require_redis
from tests.unit.stream.backends import backend as backend

from newretail.stream import SqliteDedupe
from newretail.stream.redis_dedupe import RedisDedupe

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def test_append_read_ack_in_order(backend: Backend) -> None:
    log = backend.stores.log
    assert log.append([]) == []
    ids = log.append([b"a", b"b"]) + log.append([b"c"])
    assert len(set(ids)) == 3
    got = log.read("g", "c1", count=10)
    assert [(e.id, e.payload) for e in got] == list(zip(ids, [b"a", b"b", b"c"], strict=True))
    assert log.read("g", "c1", count=10) == []
    assert [e.payload for e in log.read("other", "c1", count=2)] == [b"a", b"b"]
    log.ack("g", ids)
    assert log.claim("g", "c2", min_idle_ms=0, count=10) == []


def test_unacknowledged_entries_come_back_after_a_restart(backend: Backend) -> None:
    log = backend.stores.log
    ids = log.append([b"a", b"b", b"c", b"d"])
    got = log.read("g", "c1", count=3)
    log.ack("g", [got[0].id])
    restarted = backend.reopen()
    try:
        again = restarted.log.claim("g", "c1", min_idle_ms=0, count=10)
        again += restarted.log.read("g", "c1", count=10)
        assert sorted(e.id for e in again) == sorted(ids[1:])
    finally:
        restarted.close()


def test_claim_takes_over_a_stuck_consumer(backend: Backend) -> None:
    log = backend.stores.log
    log.append([b"a", b"b"])
    stuck = log.read("g", "crashed", count=10)
    assert log.claim("g", "rescuer", min_idle_ms=3_600_000, count=10) == []
    taken = log.claim("g", "rescuer", min_idle_ms=0, count=10)
    assert [e.id for e in taken] == [e.id for e in stuck]
    log.ack("g", [e.id for e in taken])
    assert log.claim("g", "rescuer", min_idle_ms=0, count=10) == []


def test_trim_never_drops_what_a_group_still_needs(backend: Backend) -> None:
    log = backend.stores.log
    ids = [i for n in range(300) for i in log.append([f"e{n}".encode()])]
    got = log.read("g", "c", count=200)
    log.ack("g", [e.id for e in got[:150]])
    log.trim()
    rest = log.claim("g", "c", min_idle_ms=0, count=1000) + log.read("g", "c", count=1000)
    assert sorted(e.id for e in rest) == sorted(ids[150:])


def test_dedupe_remembers_keys(backend: Backend) -> None:
    dedupe = backend.stores.dedupe
    assert dedupe.seen(["app:1", "app:2"], now=NOW) == set()
    dedupe.remember(["app:1"], at=NOW)
    assert dedupe.seen(["app:1", "app:2"], now=NOW + dt.timedelta(days=1)) == {"app:1"}
    assert dedupe.retention == dt.timedelta(days=7)


def test_dedupe_forgets_after_retention(tmp_path: Path) -> None:
    dedupe = SqliteDedupe(tmp_path / "dedupe.sqlite")
    dedupe.remember(["app:1"], at=NOW)
    assert dedupe.seen(["app:1"], now=NOW + dt.timedelta(days=6)) == {"app:1"}
    assert dedupe.seen(["app:1"], now=NOW + dt.timedelta(days=8)) == set()
    dedupe.close()


@pytest.mark.redis
def test_redis_dedupe_key_expires_with_retention() -> None:
    require_redis()
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"nrtest:{uuid.uuid4().hex}:"
    RedisDedupe(client, prefix=prefix).remember(["app:1"], at=NOW)
    try:
        assert 7 * 86_400 - 60 < client.ttl(f"{prefix}seen:app:1") <= 7 * 86_400
    finally:
        client.delete(f"{prefix}seen:app:1")
        client.close()


def test_counters_last_seen_and_events_per_day(backend: Backend) -> None:
    counters = backend.stores.counters
    day = NOW.date()
    counters.record(
        [
            ("u1", NOW),
            ("u1", NOW - dt.timedelta(hours=1)),
            ("u1", NOW - dt.timedelta(days=1)),
            ("anon-7", NOW),
        ]
    )
    counters.record([("u1", NOW - dt.timedelta(minutes=5))])  # older than last seen
    u1 = counters.activity("u1", day=day)
    assert (u1.last_seen, u1.events_on_day) == (NOW, 3)
    assert counters.activity("u1", day=day - dt.timedelta(days=1)).events_on_day == 1
    assert counters.activity("anon-7", day=day).events_on_day == 1
    nobody = counters.activity("nobody", day=day)
    assert (nobody.last_seen, nobody.events_on_day) == (None, 0)
