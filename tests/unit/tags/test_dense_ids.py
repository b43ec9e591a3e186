"""Dense ids stay each key's own across refreshes, and a forgotten key's id is never handed out again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from newretail.tags.dense_ids import DenseIds, to_bitmap, to_ids


def _assign(dense: DenseIds, keys: list[str]) -> list[int]:
    return [int(i) for i in dense.assign(pa.array(keys, pa.string()))]


def test_new_keys_get_the_next_ids_in_order_of_first_appearance() -> None:
    dense = DenseIds.empty()
    assert _assign(dense, ["b", "a", "b", "c"]) == [0, 1, 0, 2]
    assert _assign(dense, ["z", "a", "y", "z"]) == [3, 1, 4, 3]
    assert (len(dense), dense.next_id) == (5, 5)
    assert _assign(dense, []) == []
    chunked = pa.chunked_array([["c", "q"], ["b"]], pa.large_string())
    assert dense.assign(chunked).dtype == np.uint32
    assert dense.assign(chunked).tolist() == [2, 5, 0]


def test_null_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="null keys"):
        DenseIds.empty().assign(pa.array(["a", None]))


def test_forget_tombstones_and_never_reuses(tmp_path: Path) -> None:
    dense = DenseIds.empty()
    _assign(dense, ["a", "b", "c"])
    gone = dense.forget(pa.array(["b", "nobody", "b"]))
    assert gone == BitMap([1])
    assert (len(dense), dense.next_id) == (2, 3)
    assert dense.keys_of(np.array([2, 1, 0], dtype=np.uint32)).to_pylist() == ["c", None, "a"]
    assert dense.lookup(pa.array(["a", "b"])).to_pylist() == [0, None]
    # A forgotten key that comes back is a new person to the index: it gets a new id.
    assert _assign(dense, ["b", "d"]) == [3, 4]
    path = tmp_path / "dense_ids.parquet"
    dense.save(path)
    again = DenseIds.load(path)
    assert again.next_id == 5
    assert again.keys_of(BitMap([0, 1, 3])).to_pylist() == ["a", None, "b"]
    assert _assign(again, ["e"]) == [5]


def test_keys_of_an_id_never_assigned_fails() -> None:
    dense = DenseIds.empty()
    _assign(dense, ["a"])
    with pytest.raises(IndexError):
        dense.keys_of(BitMap([1]))


def test_load_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    dense = DenseIds.load(tmp_path / "none.parquet")
    assert (len(dense), dense.next_id) == (0, 0)


@given(
    refreshes=st.lists(
        st.tuples(
            st.lists(st.text(max_size=3), max_size=12),  # keys present in the refresh
            st.lists(st.text(max_size=3), max_size=3),  # keys erased after it
        ),
        max_size=6,
    )
)
@settings(max_examples=80, deadline=None)
def test_ids_are_stable_across_refreshes(refreshes: list[tuple[list[str], list[str]]]) -> None:
    dense, first_id, retired = DenseIds.empty(), dict[str, int](), set[int]()
    for keys, erased in refreshes:
        before = dense.next_id
        ids = _assign(dense, keys)
        for key, given_id in zip(keys, ids, strict=True):
            if key in first_id:
                assert given_id == first_id[key]
            else:
                assert given_id >= before and given_id not in retired
                first_id[key] = given_id
        assert set(ids) <= set(first_id.values())
        gone = dense.forget(pa.array(erased, pa.string()))
        for key in erased:
            if key in first_id:
                retired.add(first_id.pop(key))
        assert set(gone) <= retired
        assert len(dense) == len(first_id)
    # Every live id still names the key it was first given to.
    live = sorted(first_id.values())
    assert dense.keys_of(to_bitmap(np.array(live, dtype=np.uint32))).to_pylist() == [
        key for key, _ in sorted(first_id.items(), key=lambda item: item[1])
    ]


def test_bitmap_conversions_round_trip() -> None:
    ids = np.array([0, 5, 2**32 - 1], dtype=np.uint32)
    assert to_ids(to_bitmap(ids)).tolist() == ids.tolist()
    assert to_bitmap(np.array([], dtype=np.uint32)) == BitMap()
