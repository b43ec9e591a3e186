"""Which events raise which real-time signals, and reading Redis bitmaps into pyroaring."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from newretail.ingest.events.contract import StoredEvent
from newretail.tags.realtime import OPPOSITE, RULES, SIGNALS, DayFlag, Toggle, signals_of
from newretail.tags.realtime_redis import bits_to_bitmap

AT = dt.datetime(2026, 5, 1, 23, 59, tzinfo=dt.UTC)


def event(kind: str = "track", name: str | None = None, **properties: Any) -> StoredEvent:
    return StoredEvent(
        source="app",
        message_id="m1",
        type=kind,  # type: ignore[arg-type]
        received_at=AT,
        occurred_at=AT,
        user_id="U1",
        event=name,
        properties=properties,
    )


def test_signals_of_each_event() -> None:
    assert signals_of(event("page")) == ("active",)
    assert signals_of(event("identify")) == ("active",)
    assert signals_of(event("alias")) == ()
    assert signals_of(event("group")) == ()
    assert signals_of(event(name="Product Viewed")) == ("active",)
    assert signals_of(event(name="Order Completed", order_id="o1")) == ("active", "ordered")
    assert signals_of(event(name="Order Completed", coupon="")) == ("active", "ordered")
    with_coupon = ("active", "ordered", "coupon_used")
    assert signals_of(event(name="Order Completed", coupon="SUMMER")) == with_coupon
    assert signals_of(event(name="Order Completed", coupon_id="C9")) == with_coupon
    assert signals_of(event(name="Coupon Applied", coupon_id="C9")) == ("active", "coupon_used")
    assert signals_of(event(name="Coupon Received")) == ("active", "coupon_received")
    assert signals_of(event(name="coupon received")) == ("active",)  # names are exact
    assert signals_of(event(name="Coupon Removed", coupon_id="C9")) == ("active",)
    assert event().business_date == dt.date(2026, 5, 1)


def test_rules_use_known_signals_and_toggles_pair_up() -> None:
    for rule in RULES.values():
        used = (rule.signal,) if isinstance(rule, DayFlag) else (rule.on, rule.off)
        assert set(used) <= set(SIGNALS)
        if isinstance(rule, Toggle):
            assert OPPOSITE[rule.on] == rule.off and OPPOSITE[rule.off] == rule.on


@given(st.sets(st.integers(0, 20_000), max_size=300))
def test_bits_to_bitmap_reads_redis_bit_order(ids: set[int]) -> None:
    # Redis numbers bit n as bit 7 - n % 8 of byte n // 8: numpy's big-endian packing.
    bits = np.zeros(20_008, dtype=bool)
    bits[list(ids)] = True
    data = np.packbits(bits).tobytes()
    assert list(bits_to_bitmap(data)) == sorted(ids)
    assert list(bits_to_bitmap(data + b"\x00" * 3)) == sorted(ids)


@given(
    st.lists(st.sampled_from([0.0, 0.0005, 0.06, 0.07, 0.5, 1.0]), min_size=1, max_size=4),
    st.integers(0, 9_000),
    st.integers(0, 2**32 - 1),
)
def test_bits_to_bitmap_of_sparse_and_dense_chunks(
    densities: list[float], tail: int, seed: int
) -> None:
    # Chunks of 65,536 bits each fuller or sparser than roaring's 4,096-value arrays.
    rng = np.random.default_rng(seed)
    bits = np.concatenate([rng.random(65_536) < d for d in densities] + [rng.random(tail) < 0.3])
    data = np.packbits(bits).tobytes()
    assert bits_to_bitmap(data).to_array().tolist() == np.flatnonzero(bits).tolist()


def test_bits_to_bitmap_of_nothing() -> None:
    assert len(bits_to_bitmap(None)) == 0
    assert len(bits_to_bitmap(b"")) == 0
    assert len(bits_to_bitmap(b"\x00\x00")) == 0
