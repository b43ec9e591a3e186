"""The order record: what Python writes, Lua writes and the writer reads is one format, and applying
records in any order or any number of times ends in the same state."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newretail.flashsale.records import (
    OrderRecord,
    decode,
    from_millis,
    later,
    reservation_id,
    sale_of,
    to_millis,
)

ids = st.from_regex(r"[A-Za-z0-9_.:@-]{1,64}", fullmatch=True)
sale_ids = st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)
millis = st.integers(min_value=0, max_value=10**13)


@st.composite
def records(draw: st.DrawFn) -> OrderRecord:
    sale = draw(sale_ids)
    reserved = draw(millis)
    return OrderRecord(
        kind=draw(st.sampled_from("RPX")),
        at_ms=draw(millis),
        reservation_id=reservation_id(sale, draw(st.integers(1, 10**12))),
        sale_id=sale,
        sku=draw(ids),
        person_id=draw(ids),
        quantity=draw(st.integers(1, 100)),
        reserved_ms=reserved,
        expires_ms=reserved + draw(st.integers(1, 10**9)),
        request_key=draw(st.from_regex(r"[\x21-\x7e]{1,128}", fullmatch=True)),
    )


@given(records())
def test_a_record_survives_encoding_even_with_bars_in_its_request_key(record: OrderRecord) -> None:
    assert decode(record.encode()) == record
    assert sale_of(record.reservation_id) == record.sale_id


def test_the_format_is_the_one_the_lua_scripts_write() -> None:
    payload = b"P|1794355260500|fs-1-7|fs-1|SKU-A|p42|2|1794355260000|1794355320000|k|ey"
    record = decode(payload)
    assert record == OrderRecord(
        "P",
        1794355260500,
        "fs-1-7",
        "fs-1",
        "SKU-A",
        "p42",
        2,
        1794355260000,
        1794355320000,
        "k|ey",
    )
    assert record.encode() == payload


@given(st.lists(st.sampled_from("RPX"), min_size=1, max_size=6), st.randoms())
def test_the_furthest_state_wins_in_any_order(kinds: list[str], rng: random.Random) -> None:
    base = OrderRecord("R", 1, "s-1", "s", "A", "p", 1, 1, 2, "k")
    # A reservation is paid or expired, never both: keep the first terminal kind drawn.
    terminal = next((k for k in kinds if k != "R"), None)
    kinds = [k for k in kinds if k in ("R", terminal)]
    states = [base.moved_to(kind, n) for n, kind in enumerate(kinds)]
    rng.shuffle(states)
    current = None
    for state in states + states:
        current = later(current, state)
    assert current is not None and current.kind == (terminal or "R")


@pytest.mark.parametrize("bad", [b"", b"Q|1|a-1|a|s|p|1|1|2|k", b"R|1|a-1|a|s|p|1|1|2", b"R|x|a"])
def test_anything_else_is_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decode(bad)


@given(st.integers(min_value=0, max_value=10**14))
def test_milliseconds_round_trip_exactly(ms: int) -> None:
    assert to_millis(from_millis(ms)) == ms


def test_milliseconds_of_a_time_in_another_zone() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert to_millis(dt.datetime(1970, 1, 1, 8, 0, 0, 1500, tzinfo=shanghai)) == 1
