"""The tag index answers every question as pyarrow computes it on the table it was built from."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap
from tests.unit.tags.index_tables import (
    AS_OF,
    OPS,
    SPECS,
    VALUES,
    compared,
    expected,
    in_set,
    prepared,
    tables,
    tag,
    within,
)

from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import Bucket, TagIndex


def _probes(
    data: st.DataObject, table: pa.Table, tag_id: str, strategy: st.SearchStrategy[Any]
) -> list[Any]:
    present = [value for value in table.column(tag_id).to_pylist() if value is not None]
    drawn = data.draw(st.lists(strategy, min_size=1, max_size=3))
    return [*present[:4], *drawn]


@given(table=tables(), data=st.data())
@settings(max_examples=80, deadline=None)
def test_every_answer_matches_pyarrow(table: pa.Table, data: st.DataObject) -> None:
    keys = table.column("person_id").to_pylist()
    known = data.draw(st.lists(st.sampled_from([*keys, "ghost-1", "ghost-2"]), unique=True))
    index, ids, _ = prepared(table, known)
    everyone = BitMap(ids.tolist())
    assert index.universe() == everyone
    assert index.row_count == table.num_rows
    for spec in SPECS:
        strategy = VALUES[spec.value_type]
        ordered = spec.value_type in ("number", "date")
        present = index.present(spec.id)
        assert present == expected(ids, pc.is_valid(table.column(spec.id)))
        for probe in _probes(data, table, spec.id, strategy):
            for op in OPS:
                if not ordered and op not in ("=", "!="):
                    with pytest.raises(TypeError):
                        index.compare(spec.id, op, probe)  # type: ignore[arg-type]
                    continue
                answer = index.compare(spec.id, op, probe)  # type: ignore[arg-type]
                truth = compared(table, ids, spec, op, probe)
                assert answer == truth, (spec.id, op, probe)
                # NOT of a comparison holds the nulls too (SQL's two-valued reading).
                assert index.universe() - answer == everyone - truth
        chosen = data.draw(st.lists(strategy, max_size=4))
        assert index.one_of(spec.id, chosen) == in_set(table, ids, spec, chosen)
        if ordered:
            low, high = data.draw(strategy), data.draw(strategy)
            assert index.between(spec.id, low, high) == within(table, ids, spec, low, high)
        else:
            with pytest.raises(TypeError):
                index.between(spec.id, chosen[0] if chosen else "", "")


@pytest.fixture
def small() -> tuple[TagIndex, DenseIds]:
    table = pa.table(
        {
            "person_id": ["c", "a", "b", "d"],
            "vip": [True, None, False, True],
            "tier": ["gold", "tin", None, "gold"],
            "spend": pa.array([-5, 10, None, 3], pa.int32()),  # cast to int64 on build
            "last_order": [dt.date(2026, 1, 1), None, dt.date(2024, 5, 1), None],
        }
    )
    dense = DenseIds.empty()
    return TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=dense), dense


def test_wrong_values_and_orderings_raise_type_error(small: tuple[TagIndex, DenseIds]) -> None:
    index, _ = small
    wrong: list[tuple[str, str, object]] = [
        ("vip", "=", 1),
        ("vip", "<", True),
        ("tier", "=", 1),
        ("tier", ">=", "gold"),
        ("spend", "=", True),
        ("spend", "=", "3"),
        ("last_order", "=", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
        ("last_order", "<", 20000),
    ]
    for tag_id, op, value in wrong:
        with pytest.raises(TypeError):
            index.compare(tag_id, op, value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        index.one_of("spend", [1, "2"])
    with pytest.raises(TypeError):
        index.between("tier", "a", "z")
    with pytest.raises(ValueError, match="unknown comparison"):
        index.compare("spend", "<>", 1)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        index.compare("nope", "=", 1)
    with pytest.raises(KeyError):
        index.spec("nope")


def test_answers_belong_to_the_caller(small: tuple[TagIndex, DenseIds]) -> None:
    index, _ = small
    for answer in (
        index.universe(),
        index.present("vip"),
        index.present("spend"),
        index.compare("tier", "=", "gold"),
        index.compare("spend", ">=", -100),
        index.one_of("vip", [True]),
    ):
        answer.clear()
    assert len(index.universe()) == 4
    assert len(index.present("vip")) == 3
    assert len(index.present("spend")) == 3
    assert len(index.compare("tier", "=", "gold")) == 2
    assert len(index.compare("spend", ">=", -100)) == 3
    assert len(index.one_of("vip", [True])) == 2


def test_summaries(small: tuple[TagIndex, DenseIds]) -> None:
    index, dense = small
    assert index.tag_ids == ("vip", "tier", "spend", "last_order")
    assert index.version is None
    assert index.as_of == AS_OF
    assert index.coverage("vip") == 0.75
    assert index.coverage("last_order") == 0.5
    assert index.distribution("vip").counts == {"true": 2, "false": 1}
    # The domain in display order, zeros included, then values outside it.
    assert index.distribution("tier").counts == {"gold": 2, "silver": 0, "bronze": 0, "tin": 1}
    spend = index.distribution("spend")
    assert (spend.count, spend.minimum, spend.maximum) == (3, -5, 10)
    assert spend.quantiles == {"p10": -5, "p25": -5, "p50": 3, "p75": 10, "p90": 10}
    assert sum(bucket.count for bucket in spend.histogram) == 3
    assert spend.histogram[0] == Bucket(-5, -4, 1)
    assert spend.histogram[-1].high == 10
    dates = index.distribution("last_order")
    assert (dates.minimum, dates.maximum) == (dt.date(2024, 5, 1), dt.date(2026, 1, 1))
    assert all(isinstance(bucket.low, dt.date) for bucket in dates.histogram)
    # Keys in id order: ids follow the table's first appearance.
    assert index.keys(index.compare("spend", "<", 5)) == ["c", "d"]
    assert index.keys(BitMap([1, 2])) == ["a", "b"]
    assert dense.keys_of(np.array([3], dtype=np.uint32)).to_pylist() == ["d"]


def test_all_null_and_empty_tables() -> None:
    table = pa.table({"person_id": pa.array([], pa.string())}).append_column(
        "spend", pa.array([], pa.int64())
    )
    spend = tag("spend", "number")
    index = TagIndex.build(table, [spend], entity="person", as_of=AS_OF, dense=DenseIds.empty())
    assert index.universe() == BitMap()
    assert index.coverage("spend") == 0.0
    assert index.distribution("spend").minimum is None
    assert index.compare("spend", "!=", 0) == BitMap()


def test_build_refuses_duplicates_and_foreign_tags() -> None:
    table = pa.table({"person_id": ["a", "b", "a"], "vip": [True, False, True]})
    with pytest.raises(ValueError, match="twice"):
        TagIndex.build(table, [SPECS[0]], entity="person", as_of=AS_OF, dense=DenseIds.empty())
    with pytest.raises(ValueError, match="describes persons"):
        TagIndex.build(table, [SPECS[0]], entity="store", as_of=AS_OF, dense=DenseIds.empty())


def test_chunked_columns_build_alike() -> None:
    table = pa.table({"person_id": ["a", "b", "c", "d"], "spend": [1, None, 3, 4]})
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 2), table.slice(3)])
    spend = [tag("spend", "number")]
    one = TagIndex.build(table, spend, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    many = TagIndex.build(chunked, spend, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    for op in OPS:
        assert one.compare("spend", op, 3) == many.compare("spend", op, 3)  # type: ignore[arg-type]


def test_an_enum_of_many_values_groups_alike() -> None:
    # Past a few dozen values the build sorts rows instead of masking once per value.
    rows = 500
    cities = [None if i % 7 == 0 else f"city-{(i * 31) % 90}" for i in range(rows)]
    table = pa.table({"person_id": [f"p{(i * 17) % rows}" for i in range(rows)], "city": cities})
    city = tag("city", "enum", ("city-1", "city-2", "atlantis"))
    dense = DenseIds.empty()
    dense.assign(pa.array([f"p{i}" for i in range(0, rows, 3)]))  # rows out of id order
    index = TagIndex.build(table, [city], entity="person", as_of=AS_OF, dense=dense)
    ids = dense.lookup(table.column("person_id")).to_numpy()
    for name in {name for name in cities if name is not None}:
        assert index.compare("city", "=", name) == BitMap(
            ids[[value == name for value in cities]].tolist()
        )
    counts = index.distribution("city").counts
    assert list(counts)[:3] == ["city-1", "city-2", "atlantis"]
    assert counts["atlantis"] == 0 and sum(counts.values()) == len(index.present("city"))


@given(table=tables(max_rows=60))
@settings(max_examples=25, deadline=None)
def test_an_index_built_from_a_file_a_few_columns_at_a_time_answers_like_one_built_whole(
    table: pa.Table,
) -> None:
    import tempfile
    from pathlib import Path

    import pyarrow.parquet as pq

    whole = TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tags.parquet"
        pq.write_table(table, path)
        passes = TagIndex.build_from_file(
            path, SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty(), columns_per_pass=1
        )
    assert passes.row_count == whole.row_count
    assert passes.universe() == whole.universe()
    for spec in SPECS:
        assert passes.present(spec.id) == whole.present(spec.id)
        assert passes.distribution(spec.id) == whole.distribution(spec.id)


@given(table=tables(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_per_value_bitmaps_answer_like_the_bit_slices(table: pa.Table, data: st.DataObject) -> None:
    import newretail.tags.index as index_module

    valued = TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    limit = index_module._VALUED_NUMBERS
    index_module._VALUED_NUMBERS = -1  # no number tag gets per-value bitmaps
    try:
        sliced = TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty())
    finally:
        index_module._VALUED_NUMBERS = limit
    for spec in SPECS:
        if spec.value_type not in ("number", "date"):
            continue
        assert not sliced.layouts[spec.id].values
        for probe in _probes(data, table, spec.id, VALUES[spec.value_type]):
            for op in OPS:
                assert valued.compare(spec.id, op, probe) == sliced.compare(spec.id, op, probe)  # type: ignore[arg-type]
            assert valued.between(spec.id, probe, probe) == sliced.between(spec.id, probe, probe)
            assert valued.one_of(spec.id, [probe]) == sliced.one_of(spec.id, [probe])
