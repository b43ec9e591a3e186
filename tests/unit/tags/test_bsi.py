"""Bit-sliced index answers equal the predicates numpy computes, across the whole int64 range."""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from newretail.tags.bsi import BitSliced, spread_of

INT64 = st.integers(-(2**63), 2**63 - 1)
EDGES = st.sampled_from([-(2**63), -1, 0, 1, 2**63 - 1])
OPS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _index(values: list[int | None]) -> tuple[BitSliced, np.ndarray, np.ndarray]:
    has = np.array([value is not None for value in values], dtype=bool)
    ids = np.flatnonzero(has).astype(np.uint32) * np.uint32(3)  # gaps between ids
    numbers = np.array([value for value in values if value is not None], dtype=np.int64)
    return BitSliced.build(ids, numbers), ids, numbers


def _where(ids: np.ndarray, mask: np.ndarray) -> BitMap:
    return BitMap(ids[mask].tolist())


@given(
    values=st.lists(st.one_of(st.none(), st.integers(-40, 40), INT64, EDGES), max_size=50),
    probes=st.lists(st.one_of(st.integers(-45, 45), INT64, EDGES), min_size=1, max_size=6),
)
@settings(max_examples=150, deadline=None)
def test_comparisons_match_numpy(values: list[int | None], probes: list[int]) -> None:
    index, ids, numbers = _index(values)
    # Python ints compare exactly where numpy would overflow int64 on the probe.
    exact = np.array(numbers.tolist(), dtype=object)
    for probe in probes:
        for op, function in OPS.items():
            truth = _where(ids, np.asarray(function(exact, probe), dtype=bool))
            assert index.compare(op, probe) == truth, (op, probe)  # type: ignore[arg-type]
    low, high = sorted(probes[:2]) if len(probes) > 1 else (probes[0], probes[0])
    assert index.between(low, high) == _where(ids, (exact >= low) & (exact <= high))
    assert index.between(high, low) == (BitMap() if high > low else index.compare("=", low))
    assert index.one_of(probes) == _where(ids, np.isin(exact, probes))


def test_negative_values() -> None:
    index, _, _ = _index([-7, -3, None, -7, -1])
    assert list(index.compare("<", -3)) == [0, 9]
    assert list(index.compare(">=", -3)) == [3, 12]
    assert list(index.compare("=", -7)) == [0, 9]
    assert list(index.between(-3, -1)) == [3, 12]
    assert index.minimum == -7
    assert index.ceiling >= -1


def test_a_single_value_needs_no_slice() -> None:
    index, _, _ = _index([5, None, 5])
    assert len(index.slices) == 0
    assert list(index.compare("=", 5)) == [0, 6]
    assert list(index.compare("<=", 5)) == [0, 6]
    assert list(index.compare("!=", 5)) == []
    assert list(index.compare("!=", 4)) == [0, 6]
    assert list(index.compare(">", 5)) == []
    assert list(index.compare("<", 6)) == [0, 6]


def test_all_null_answers_nothing() -> None:
    index, _, _ = _index([None, None])
    for op in OPS:
        for probe in (-1, 0, 1):
            assert index.compare(op, probe) == BitMap()  # type: ignore[arg-type]
    assert index.between(-10, 10) == BitMap()
    assert index.one_of([0]) == BitMap()


def test_the_full_int64_range_takes_64_slices() -> None:
    index, _, _ = _index([-(2**63), 2**63 - 1, 0])
    assert len(index.slices) == 64
    assert list(index.compare(">", 0)) == [3]
    assert list(index.compare("<", 0)) == [0]
    assert list(index.compare("=", 0)) == [6]


def test_answers_are_fresh_bitmaps() -> None:
    index, _, _ = _index([1, 2, 3])
    index.compare(">=", -100).clear()
    index.compare("!=", 100).clear()
    assert len(index.existence) == 3
    with pytest.raises(ValueError, match="unknown comparison"):
        index.compare("==", 1)  # type: ignore[arg-type]


@given(values=st.lists(st.one_of(st.integers(-1000, 1000), INT64), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_spread_summarises_the_column(values: list[int]) -> None:
    numbers = np.array(values, dtype=np.int64)
    spread = spread_of(numbers)
    assert (spread["min"], spread["max"]) == (min(values), max(values))
    bars = spread["histogram"]
    assert 1 <= len(bars) <= 10
    assert sum(count for _, _, count in bars) == len(values)
    assert bars[0][0] == min(values) and bars[-1][1] == max(values)
    for (low, high, count), (after, _, _) in zip(
        bars, [*bars[1:], [None, None, None]], strict=True
    ):
        assert count == sum(low <= value <= high for value in values)
        assert after is None or after == high + 1
    ordered = sorted(values)
    for name, share in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        # inverted_cdf: the smallest value with at least that share of the column at or below it.
        rank = max(int(np.ceil(share * len(values))) - 1, 0)
        assert spread["quantiles"][name] == ordered[rank]


def test_spread_of_nothing() -> None:
    assert spread_of(np.array([], dtype=np.int64))["min"] is None
