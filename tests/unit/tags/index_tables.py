"""Random wide tag tables for the index tests, and the reference answers pyarrow computes on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import strategies as st
from pyroaring import BitMap

from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.lookup import Scalar
from newretail.tags.spec import TagSpec, ValueType

AS_OF = dt.date(2026, 3, 31)
DOMAIN = ("gold", "silver", "bronze")
PROBES = ("gold", "silver", "bronze", "tin", "")  # "tin" and "" lie outside the domain
OPS = ("=", "!=", "<", "<=", ">", ">=")
_ARROW_OPS = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def tag(tag_id: str, value_type: ValueType, values: tuple[str, ...] = ()) -> TagSpec:
    return TagSpec(
        id=tag_id,
        name_zh=tag_id,
        name_en=tag_id,
        category="value",
        entity="person",
        value_type=value_type,
        definition="1",
        description_zh="",
        description_en="",
        values=values,
    )


SPECS = (
    tag("vip", "bool"),
    tag("tier", "enum", DOMAIN),
    tag("spend", "number"),
    tag("last_order", "date"),
)

_numbers = st.one_of(
    st.integers(-50, 50), st.integers(-(2**63), 2**63 - 1), st.sampled_from([-(2**63), 2**63 - 1])
)
_dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
VALUES: dict[ValueType, st.SearchStrategy[Any]] = {
    "bool": st.booleans(),
    "enum": st.sampled_from(PROBES),
    "number": _numbers,
    "date": _dates,
}


@st.composite
def tables(draw: st.DrawFn, *, max_rows: int = 40) -> pa.Table:
    """A person table in random row order, each column sometimes all null, sometimes null-free."""
    rows = draw(st.integers(0, max_rows))
    keys = [f"p{i}" for i in draw(st.permutations(range(rows)))]
    columns: dict[str, pa.Array[Any]] = {"person_id": pa.array(keys, pa.string())}
    for spec in SPECS:
        nulls = draw(st.sampled_from(["none", "some", "all"]))
        strategy = VALUES[spec.value_type]
        if nulls == "some":
            strategy = st.one_of(st.none(), strategy)
        elif nulls == "all":
            strategy = st.none()
        values = draw(st.lists(strategy, min_size=rows, max_size=rows))
        columns[spec.id] = pa.array(values, spec.arrow_type)
    return pa.table(columns)


def prepared(table: pa.Table, known: list[str]) -> tuple[TagIndex, np.ndarray, DenseIds]:
    """The index of ``table`` with some keys known beforehand (so ids are not in row order)."""
    dense = DenseIds.empty()
    dense.assign(pa.array(known, pa.string()))
    index = TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=dense)
    ids = dense.lookup(table.column("person_id")).to_numpy(zero_copy_only=False)
    return index, ids, dense


def expected(ids: np.ndarray, mask: Any) -> BitMap:
    """The ids of the rows where ``mask`` is true (null counts as false, as in SQL's WHERE)."""
    # pyarrow's stubs type a comparison of a chunked column as an Array; it is chunked.
    chosen = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
    return BitMap(ids[np.asarray(chosen, dtype=bool)].tolist())


def compared(table: pa.Table, ids: np.ndarray, spec: TagSpec, op: str, value: Scalar) -> BitMap:
    scalar = pa.scalar(value, spec.arrow_type)
    return expected(ids, _ARROW_OPS[op](table.column(spec.id), scalar))


def in_set(table: pa.Table, ids: np.ndarray, spec: TagSpec, values: list[Scalar]) -> BitMap:
    value_set = pa.array(values, spec.arrow_type)
    return expected(ids, pc.is_in(table.column(spec.id), value_set=value_set))


def within(table: pa.Table, ids: np.ndarray, spec: TagSpec, low: Scalar, high: Scalar) -> BitMap:
    column = table.column(spec.id)
    above = pc.greater_equal(column, pa.scalar(low, spec.arrow_type))
    below = pc.less_equal(column, pa.scalar(high, spec.arrow_type))
    return expected(ids, pc.and_(above, below))
