"""The real-time overlay on a tag index: live values for real-time tags, the snapshot for the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa
import pytest
from pyroaring import BitMap

from newretail.audience.evaluate import evaluate
from newretail.audience.indexes import Indexes
from newretail.audience.parser import parse
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.realtime_store import Change, InProcessTagStore
from newretail.tags.realtime_view import RealtimeView, with_realtime
from newretail.tags.spec import TagSpec, ValueType

AS_OF = dt.date(2026, 4, 30)
TODAY = dt.date(2026, 5, 1)


def spec(tag_id: str, value_type: ValueType = "bool", *, realtime: bool = False) -> TagSpec:
    return TagSpec(
        id=tag_id,
        name_zh=tag_id,
        name_en=tag_id,
        category="behaviour",
        entity="person",
        value_type=value_type,
        definition="true",
        description_zh="",
        description_en="",
        refresh="realtime" if realtime else "daily",
    )


SPECS = (
    spec("ordered_today", realtime=True),
    spec("active_today", realtime=True),
    spec("holds_unused_coupon_now", realtime=True),
    spec("orders_7d", "number"),
    spec("vip"),
)


def build_index(n: int = 10) -> TagIndex:
    """Persons p0..p{n-1} = dense ids 0..n-1; p0 ordered on the as-of date; p1, p2 hold coupons."""
    ids = range(n)
    table = pa.table(
        {
            "person_id": [f"p{i}" for i in ids],
            "ordered_today": [i == 0 for i in ids],
            "active_today": [i == 0 for i in ids],
            "holds_unused_coupon_now": [i in (1, 2) for i in ids],
            "orders_7d": list(ids),
            "vip": [i % 2 == 0 for i in ids],
        }
    )
    return TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty())


def count(view: TagIndex, text: str) -> BitMap:
    return evaluate(parse(text), view)


def test_day_flags_come_from_today_only_once_the_snapshot_is_of_an_earlier_day() -> None:
    store = InProcessTagStore()
    store.apply([Change("ordered", TODAY, BitMap([4, 5])), Change("active", AS_OF, BitMap([7]))])
    view = RealtimeView(build_index(), store, today=TODAY)
    assert list(count(view, "ordered_today = true")) == [4, 5]
    assert list(count(view, "ordered_today = false")) == [0, 1, 2, 3, 6, 7, 8, 9]
    assert list(count(view, "NOT ordered_today = true AND vip = true")) == [0, 2, 6, 8]
    assert list(count(view, "active_today = true")) == []
    assert list(count(view, "ordered_today IN (true, false)")) == list(range(10))
    # On the snapshot's own day the nightly value still holds, with the stream's on top.
    same_day = RealtimeView(build_index(), store, today=AS_OF)
    assert list(count(same_day, "active_today = true")) == [0, 7]
    assert list(count(same_day, "ordered_today = true")) == [0]


def test_a_toggle_replays_each_day_after_the_snapshot_in_turn() -> None:
    store = InProcessTagStore()
    later = TODAY + dt.timedelta(days=1)
    store.apply(
        [
            Change("coupon_used", AS_OF, BitMap([5])),  # on the snapshot's day: already in it
            Change("coupon_received", TODAY, BitMap([3, 4])),
            Change("coupon_used", TODAY, BitMap([1])),
            Change("coupon_used", later, BitMap([3])),
            Change("coupon_received", later, BitMap([1])),
        ]
    )
    view = RealtimeView(build_index(), store, today=TODAY)
    assert list(view.holds("holds_unused_coupon_now")) == [2, 3, 4]
    tomorrow = RealtimeView(build_index(), store, today=later)
    assert list(count(tomorrow, "holds_unused_coupon_now = true")) == [1, 2, 4]
    assert tomorrow.distribution("holds_unused_coupon_now").counts == {"true": 3, "false": 7}


def test_other_tags_and_questions_pass_through() -> None:
    index = build_index()
    store = InProcessTagStore()
    store.apply([Change("ordered", TODAY, BitMap([1]))])
    view = RealtimeView(index, store, today=TODAY)
    assert view.live_tags == ("ordered_today", "active_today", "holds_unused_coupon_now")
    assert view.compare("orders_7d", ">=", 7) == index.compare("orders_7d", ">=", 7)
    assert view.distribution("vip") == index.distribution("vip")
    assert list(view.keys(BitMap([1, 3]))) == ["p1", "p3"]
    assert (view.as_of, view.version, view.tag_ids) == (index.as_of, index.version, index.tag_ids)
    with pytest.raises(TypeError):
        view.compare("ordered_today", "<", True)
    with pytest.raises(TypeError):
        view.compare("ordered_today", "=", "yes")


def test_a_daily_tag_marked_realtime_without_a_rule_keeps_its_snapshot_value() -> None:
    specs = (spec("ordered_today", realtime=True), spec("clicked_today", realtime=True))
    table = pa.table(
        {"person_id": ["a", "b"], "ordered_today": [False, False], "clicked_today": [True, False]}
    )
    index = TagIndex.build(table, specs, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    view = RealtimeView(index, InProcessTagStore(), today=TODAY)
    assert view.live_tags == ("ordered_today",)
    assert list(view.compare("clicked_today", "=", True)) == [0]


def test_ids_beyond_the_snapshot_are_left_out() -> None:
    store = InProcessTagStore()
    store.apply([Change("ordered", TODAY, BitMap([2, 10, 11]))])  # 10, 11: a newer key map's
    view = RealtimeView(build_index(), store, today=TODAY)
    assert list(count(view, "ordered_today = true")) == [2]
    assert len(count(view, "NOT ordered_today = true")) == 9


def test_with_realtime_swaps_only_the_person_index() -> None:
    index, stores = build_index(), build_index()
    indexes = Indexes(index, stores)
    live = with_realtime(indexes, InProcessTagStore(), today=TODAY)
    assert isinstance(live.persons, RealtimeView) and live.persons.base is index
    assert live.stores is stores
    assert dataclasses.replace(live, persons=index) == indexes
