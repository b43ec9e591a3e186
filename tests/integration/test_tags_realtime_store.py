"""The real-time tag store's contract, over its twins: in memory, in memory saved to files, Redis."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyroaring import BitMap
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.tags.realtime_store import Change, InProcessTagStore, RealtimeTagStore

DAY = dt.date(2026, 5, 1)


@dataclass
class Twin:
    name: str
    store: RealtimeTagStore
    reopen: Callable[[], RealtimeTagStore]


@pytest.fixture(params=["memory", "files", pytest.param("redis", marks=pytest.mark.redis)])
def twin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Twin]:
    if request.param == "memory":
        yield Twin("memory", InProcessTagStore(), InProcessTagStore)
        return
    if request.param == "files":
        root = tmp_path / "tags_realtime"
        yield Twin("files", InProcessTagStore(root), lambda: InProcessTagStore(root))
        return
    require_redis()
    import redis

    from newretail.tags.realtime_redis import RedisTagStore

    prefix = f"nrtest:{uuid.uuid4().hex}:"

    def connect() -> RealtimeTagStore:
        return RedisTagStore(redis.Redis.from_url(REDIS_URL), prefix=prefix)

    chosen = Twin("redis", connect(), connect)
    yield chosen
    chosen.store.close()
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_changes_apply_in_order(twin: Twin) -> None:
    store = twin.store
    assert len(store.bitmap("ordered", DAY)) == 0
    store.apply(
        [
            Change("ordered", DAY, BitMap([1, 5, 9])),
            Change("ordered", DAY, BitMap([5]), value=False),
            Change("coupon_used", DAY, BitMap([9, 70_000])),
            Change("coupon_used", DAY, BitMap([70_000]), value=False),
            Change("coupon_used", DAY, BitMap([70_000])),
        ]
    )
    assert list(store.bitmap("ordered", DAY)) == [1, 9]
    assert list(store.bitmap("coupon_used", DAY)) == [9, 70_000]
    assert len(store.bitmap("ordered", DAY + dt.timedelta(days=1))) == 0


def test_set_and_clear_are_idempotent(twin: Twin) -> None:
    batch = [
        Change("coupon_received", DAY, BitMap([2, 3])),
        Change("coupon_used", DAY, BitMap([2, 3]), value=False),
    ]
    twin.store.apply(batch)
    twin.store.apply(batch)
    twin.store.apply([Change("coupon_received", DAY, BitMap([4]), value=False)])  # never set
    assert list(twin.store.bitmap("coupon_received", DAY)) == [2, 3]
    assert len(twin.store.bitmap("coupon_used", DAY)) == 0


def test_a_bitmap_read_is_the_callers_copy(twin: Twin) -> None:
    twin.store.apply([Change("active", DAY, BitMap([1]))])
    got = twin.store.bitmap("active", DAY)
    got.add(2)
    assert list(twin.store.bitmap("active", DAY)) == [1]


def test_bitmaps_of_several_days(twin: Twin) -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    twin.store.apply(
        [Change("coupon_used", days[0], BitMap([1])), Change("coupon_used", days[2], BitMap([3]))]
    )
    assert [list(b) for b in twin.store.bitmaps("coupon_used", days)] == [[1], [], [3]]
    assert twin.store.bitmaps("coupon_used", []) == []


def test_ten_million_persons(twin: Twin) -> None:
    ids = BitMap(range(0, 10_000_000, 997)) | BitMap([9_999_999])
    twin.store.apply([Change("active", DAY, ids)])
    assert twin.store.bitmap("active", DAY) == ids


def test_a_reopened_store_keeps_what_it_held(twin: Twin) -> None:
    twin.store.apply([Change("ordered", DAY, BitMap([1, 2]))])
    twin.store.apply([Change("ordered", DAY, BitMap([2]), value=False)])
    again = twin.reopen()
    try:
        expected = [] if twin.name == "memory" else [1]  # the bare in-memory twin keeps nothing
        assert list(again.bitmap("ordered", DAY)) == expected
    finally:
        again.close()


def test_the_in_process_twin_drops_days_past_its_retention(tmp_path: Path) -> None:
    root = tmp_path / "tags_realtime"
    store = InProcessTagStore(root, keep_days=2)
    old, kept, newest = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=3)
    store.apply([Change("active", old, BitMap([1])), Change("active", kept, BitMap([2]))])
    store.apply([Change("active", newest, BitMap([3]))])
    assert [list(b) for b in store.bitmaps("active", [old, kept, newest])] == [[], [2], [3]]
    assert sorted(p.name for p in (root / "active").iterdir()) == [
        "2026-05-02.roaring",
        "2026-05-04.roaring",
    ]


@pytest.mark.redis
def test_redis_keys_are_bitmaps_that_expire_after_retention() -> None:
    require_redis()
    import redis

    from newretail.tags.realtime_redis import RedisTagStore

    client = redis.Redis.from_url(REDIS_URL)
    store = RedisTagStore(client, prefix=f"nrtest:{uuid.uuid4().hex}:", keep_days=3)
    key = store.key("ordered", DAY)
    try:
        store.apply([Change("ordered", DAY, BitMap([0, 9]))])
        assert client.getbit(key, 9) == 1 and client.bitcount(key) == 2
        assert 4 * 86_400 - 60 < client.ttl(key) <= 4 * 86_400
    finally:
        client.delete(key)
        store.close()
