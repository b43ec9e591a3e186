"""Real-time tags end to end on a built home: events through the real intake onto the real log
(files or Redis Streams), one consumer pass into the store (in-process or Redis), and audience
counts through the overlay that change accordingly; redelivery changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyroaring import BitMap
from sqlalchemy import Engine, select
from tests.integration.audience_home import audience_template as audience_template
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.api.realtime_tags_worker import RealtimeTagsWorker
from newretail.audience.indexes import IndexHolder
from newretail.audience.service import compile_expression
from newretail.audience.service import select as select_audience
from newretail.config import Settings
from newretail.identity.realtime import resolve
from newretail.ingest.events import accept
from newretail.oltp import engine_from_settings
from newretail.oltp.tables import identity_links
from newretail.security.pii import PiiProtector
from newretail.stream import EventLog, Stores, open_stores
from newretail.tags.index import TagIndex
from newretail.tags.realtime_consumer import GROUP, RealtimeTagConsumer
from newretail.tags.realtime_store import RealtimeTagStore, open_realtime_store
from newretail.tags.realtime_view import with_realtime

TODAY = dt.date(2026, 5, 1)  # the day after the home's snapshot (as of 2026-04-30)
RECEIVED = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class Rig:
    settings: Settings
    database: Engine
    stores: Stores
    store: RealtimeTagStore
    holder: IndexHolder
    prefix: str
    _sent: int = 0

    def consumer(self, log: EventLog | None = None) -> RealtimeTagConsumer:
        return RealtimeTagConsumer(
            log=log or self.stores.log,
            store=self.store,
            database=self.database,
            index_dir=self.settings.index_dir,
            consumer="test",
        )

    def post(self, *messages: dict[str, Any], source: str = "app") -> None:
        batch = []
        for message in messages:
            self._sent += 1
            batch.append({"messageId": f"m{self._sent}", "type": "track", **message})
        stores = self.stores
        body = json.dumps({"batch": batch}).encode()
        accept(
            body,
            endpoint="batch",
            source=source,
            received_at=RECEIVED,
            log=stores.log,
            dedupe=stores.dedupe,
            counters=stores.counters,
        )

    def live(self, today: dt.date = TODAY) -> TagIndex:
        return with_realtime(self.holder.get(), self.store, today=today).persons

    def members(self, text: str, today: dt.date = TODAY) -> BitMap:
        live = with_realtime(self.holder.get(), self.store, today=today)
        compiled = compile_expression(live, text=text, tree=None, entity="person")
        return select_audience(live, compiled).members

    def people(self, tag_id: str, value: bool, n: int) -> list[tuple[str, int]]:
        """``n`` (app uid, dense id) of persons whose snapshot value of ``tag_id`` is ``value``."""
        index = self.holder.get().persons
        wanted = index.compare(tag_id, "=", value)
        by_person = dict(zip(index.keys(wanted), wanted, strict=True))
        query = select(identity_links.c.source_record_id, identity_links.c.person_id).where(
            identity_links.c.source == "app"
        )
        with self.database.connect() as conn:
            rows = conn.execute(query).all()
        found = sorted((uid, by_person[person]) for uid, person in rows if person in by_person)
        assert len(found) >= n, f"too few app users with {tag_id} = {value}"
        return found[:n]


def order(uid: str, at: str = "2026-05-01T09:30:00Z", **properties: Any) -> dict[str, Any]:
    return {"userId": uid, "event": "Order Completed", "timestamp": at, "properties": properties}


def track(uid: str, event: str, **properties: Any) -> dict[str, Any]:
    return {
        "userId": uid,
        "event": event,
        "timestamp": "2026-05-01T10:00:00Z",
        "properties": properties,
    }


def _copy_tagged_home(template: Path, target: Path) -> Path:
    """The parts of a built home these tests use: its tag snapshots and its OLTP store (the lake,
    most of its size, is not read)."""
    shutil.copytree(template / "index", target / "index")
    for part in template.glob("oltp.sqlite3*"):
        shutil.copy2(part, target / part.name)
    return target


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def rig(request: pytest.FixtureRequest, audience_template: Path, tmp_path: Path) -> Iterator[Rig]:
    home = _copy_tagged_home(audience_template, tmp_path / "home")
    settings = Settings(home=home)
    prefix = f"nrtest:{uuid.uuid4().hex}:"
    if request.param == "redis":
        require_redis()
        settings = settings.model_copy(update={"redis_url": REDIS_URL})
    database = engine_from_settings(settings)
    stores = open_stores(settings, prefix=prefix)
    store = open_realtime_store(settings, prefix=prefix)
    yield Rig(settings, database, stores, store, IndexHolder(settings.index_dir), prefix)
    store.close()
    stores.close()
    database.dispose()
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_an_order_flips_ordered_today_within_one_pass(rig: Rig) -> None:
    (buyer, buyer_id), (viewer, viewer_id) = rig.people("ordered_today", False, 2)
    assert len(rig.members("ordered_today = true")) == 0  # a new day: nobody yet
    loyal = rig.members("orders_30d >= 3")  # a daily tag, answered by the snapshot
    rig.post(order(buyer, order_id="o1"), track(viewer, "Product Viewed"))
    consumer = rig.consumer()
    assert consumer.step(today=TODAY) == 2
    assert list(rig.members("ordered_today = true")) == [buyer_id]
    assert list(rig.members("active_today = true")) == sorted([buyer_id, viewer_id])
    assert len(rig.members("ordered_today = false")) == rig.live().row_count - 1
    assert consumer.stats.applied == 2 and consumer.stats.skipped == 0
    assert rig.members("active_today = true OR orders_30d >= 3") == loyal | BitMap(
        [buyer_id, viewer_id]
    )
    # The snapshot's own answers are untouched; on the snapshot's day the baseline shows through.
    assert buyer_id not in rig.holder.get().persons.compare("ordered_today", "=", True)
    baseline = rig.holder.get().persons.compare("ordered_today", "=", True)
    assert rig.members("ordered_today = true", today=TODAY - dt.timedelta(days=1)) == baseline


def test_redelivered_events_change_nothing(rig: Rig) -> None:
    people = rig.people("holds_unused_coupon_now", False, 3)
    (a, _), (b, _), (c, _) = people
    rig.post(
        order(a, order_id="o1"),
        track(b, "Coupon Received", coupon_id="C1"),
        track(c, "Coupon Received", coupon_id="C2"),
        track(c, "Coupon Applied", coupon_id="C2"),
    )
    copies = [e.payload for e in rig.stores.log.read("copier", "t", count=100)]
    consumer = rig.consumer()
    consumer.drain(today=TODAY)
    questions = ("ordered_today = true", "active_today = true", "holds_unused_coupon_now = true")
    first = [rig.members(q) for q in questions]
    rig.stores.log.append(copies)  # delivered again, as at-least-once delivery may
    assert consumer.drain(today=TODAY) == len(copies)
    assert [rig.members(q) for q in questions] == first
    assert consumer.stats.applied == 2 * len(copies)


class _KilledAtAck(EventLog):
    """The real log, in a process killed after the store took a batch and before the ack."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner

    def append(self, payloads: Sequence[bytes]) -> list[str]:
        return self.inner.append(payloads)

    def read(self, group: str, consumer: str, *, count: int) -> list[Any]:
        return self.inner.read(group, consumer, count=count)

    def ack(self, group: str, ids: Sequence[str]) -> None:
        raise SystemExit("killed")

    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Any]:
        return self.inner.claim(group, consumer, min_idle_ms=min_idle_ms, count=count)

    def trim(self) -> int:
        return self.inner.trim()

    def close(self) -> None:
        self.inner.close()


def test_a_batch_replayed_after_a_crash_changes_nothing(rig: Rig) -> None:
    (a, a_id), (b, b_id) = rig.people("holds_unused_coupon_now", False, 2)
    rig.post(track(a, "Coupon Received"), track(b, "Coupon Received"))
    with pytest.raises(SystemExit):
        rig.consumer(_KilledAtAck(rig.stores.log)).step(today=TODAY)
    assert list(rig.members("holds_unused_coupon_now = true") & BitMap([a_id, b_id])) == sorted(
        [a_id, b_id]
    )
    rig.post(track(a, "Coupon Applied"))  # after the crash, in log order
    restarted = open_stores(rig.settings, prefix=rig.prefix)  # as a new process opens them
    try:
        # The new consumer replays the unacknowledged batch first, then reads on.
        assert rig.consumer(restarted.log).drain(today=TODAY) == 3
    finally:
        restarted.close()
    live = rig.members("holds_unused_coupon_now = true")
    assert b_id in live and a_id not in live


def test_coupons_received_and_used(rig: Rig) -> None:
    (fresh, fresh_id), (spender, spender_id), (both, both_id) = rig.people(
        "holds_unused_coupon_now", False, 3
    )
    (holder, holder_id), (again, again_id) = rig.people("holds_unused_coupon_now", True, 2)
    baseline = rig.members("holds_unused_coupon_now = true")
    rig.post(
        track(fresh, "Coupon Received", coupon_id="C1"),
        track(spender, "Coupon Received", coupon_id="C2"),
        track(spender, "Coupon Applied", coupon_id="C2"),
        track(holder, "Coupon Applied", coupon_id="C3"),
        order(again, coupon="C4"),
        track(again, "Coupon Received", coupon_id="C5"),
        track(both, "Coupon Received", coupon_id="C6"),
    )
    rig.consumer().step(today=TODAY)
    expected = (baseline | BitMap([fresh_id, again_id, both_id])) - BitMap([spender_id, holder_id])
    assert rig.members("holds_unused_coupon_now = true") == expected
    # The next day an order with a coupon clears it; a day dated before the snapshot changes nothing.
    tomorrow = TODAY + dt.timedelta(days=1)
    rig.post(
        order(both, at="2026-05-02T08:00:00Z", coupon="C6"),
        order(fresh, at="2026-04-29T08:00:00Z", coupon="C1"),
    )
    rig.consumer().step(today=tomorrow)
    assert rig.members("holds_unused_coupon_now = true", today=tomorrow) == expected - BitMap(
        [both_id]
    )
    assert list(rig.members("ordered_today = true", today=tomorrow)) == [both_id]
    assert rig.members("ordered_today = true") == BitMap([again_id])


def test_events_that_name_no_person_of_the_snapshot_are_skipped_and_counted(rig: Rig) -> None:
    [(known, known_id)] = rig.people("ordered_today", False, 1)
    with rig.database.begin() as conn:  # a user OneID met today: a person the snapshot lacks
        resolve(
            conn,
            [{"type": "app_uid", "value": "U-NEW-1"}],
            protector=PiiProtector(bytes(range(32))),
            now=RECEIVED,
        )
    rig.post(
        {
            "anonymousId": "device-1",
            "event": "Order Completed",
            "timestamp": "2026-05-01T09:00:00Z",
        },
        order("U-NOBODY"),
        order("U-NEW-1"),
        order(known, at="2026-04-01T09:00:00Z"),  # older than the store keeps
        order(known, at="2026-05-09T09:00:00Z"),  # a device clock far ahead
        order(known),
    )
    rig.post({"type": "alias", "userId": known, "previousId": "device-1"})
    consumer = rig.consumer()
    assert consumer.drain(today=TODAY) == 7
    assert consumer.stats.as_dict() == {
        "applied": 1,
        "ignored": 1,
        "unreadable": 0,
        "anonymous": 1,
        "unknown_user": 1,
        "not_in_snapshot": 1,
        "too_old": 1,
        "future": 1,
    }
    rig.stores.log.append([b"not an event"])
    consumer.drain(today=TODAY)
    assert consumer.stats.unreadable == 1
    assert list(rig.members("ordered_today = true")) == [known_id]


def test_mini_program_users_are_their_openid(rig: Rig) -> None:
    with rig.database.connect() as conn:
        openid, person = conn.execute(
            select(identity_links.c.source_record_id, identity_links.c.person_id)
            .where(identity_links.c.source == "mini_program")
            .order_by(identity_links.c.source_record_id)
            .limit(1)
        ).one()
    rig.post(order(openid), source="mini_program")
    rig.consumer().step(today=TODAY)
    assert list(rig.live().keys(rig.members("ordered_today = true"))) == [person]


def test_nothing_is_read_before_the_first_snapshot(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "empty")
    stores = open_stores(settings)
    database = engine_from_settings(settings)
    try:
        stores.log.append([b"{}"])
        consumer = RealtimeTagConsumer(
            log=stores.log,
            store=open_realtime_store(settings),
            database=database,
            index_dir=settings.index_dir,
            consumer="test",
        )
        assert consumer.step(today=TODAY) == 0
        assert not (settings.home / "stream" / "events" / "groups" / f"{GROUP}.offset").exists()
    finally:
        stores.close()
        database.dispose()


def test_the_server_worker_keeps_counts_live(rig: Rig) -> None:
    [(buyer, buyer_id)] = rig.people("ordered_today", False, 1)
    today = dt.datetime.now(dt.UTC).date()  # the worker reads the wall clock, as the server does
    worker = RealtimeTagsWorker(
        log=rig.stores.log,
        store=rig.store,
        database=rig.database,
        index_dir=rig.settings.index_dir,
        lock_path=rig.settings.home / "tags_realtime" / "worker.lock",
        idle_seconds=0.01,
    )
    worker.start()
    try:
        rig.post(order(buyer, at=f"{today.isoformat()}T00:00:01Z"))
        deadline = time.monotonic() + 30
        while buyer_id not in rig.members("ordered_today = true", today=today):
            assert time.monotonic() < deadline, "the worker never caught up"
            time.sleep(0.01)
    finally:
        worker.stop()
    assert worker.stats.applied == 1
