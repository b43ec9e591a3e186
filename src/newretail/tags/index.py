"""The tag index: one entity's tag values as roaring bitmaps, answering the audience evaluator.

Built from a refresh's wide tag table (``TagIndex.build``) or opened lazily from a snapshot
(``newretail.tags.snapshot``); both read the same numbered bitmaps through a store, so they answer alike.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyroaring import BitMap

from newretail.tags.bsi import COMPARISONS, BitSliced, spread_of
from newretail.tags.dense_ids import DenseIds, Ids, to_bitmap
from newretail.tags.lookup import Comparison, Scalar
from newretail.tags.spec import ENTITY_KEYS, Entity, TagSpec, ValueType

Kind = Literal["bool", "enum", "bsi"]
KINDS: dict[ValueType, Kind] = {"bool": "bool", "enum": "enum", "number": "bsi", "date": "bsi"}
EPOCH = dt.date(1970, 1, 1)
_FEW_VALUES = 32  # measured on 10M rows: per-value passes win up to ~50 distinct values
# Number and date tags with at most this many distinct values also get a bitmap per value.
_VALUED_NUMBERS = 32
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class BitmapStore(Protocol):
    """Bitmaps by number; the index copies before handing one out, so stores may share them."""

    def __len__(self) -> int: ...

    def __getitem__(self, ref: int, /) -> BitMap: ...


@dataclass(frozen=True)
class TagLayout:
    """Which stored bitmaps hold one tag, and the tag's summary (computed at build time)."""

    spec: TagSpec
    present: int
    count: int  # ids with a value
    values: Mapping[str, int] = field(default_factory=dict)  # bool ("true"/"false") and enum
    minimum: int = 0  # bsi: the offset values are stored from, and one bitmap per bit
    slices: tuple[int, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)  # distribution, as in the manifest

    @property
    def kind(self) -> Kind:
        return KINDS[self.spec.value_type]


class TagIndex:
    """Implements ``newretail.tags.lookup.TagBitmaps``; ``version`` is None until saved or loaded."""

    def __init__(
        self,
        *,
        entity: Entity,
        as_of: dt.date,
        row_count: int,
        universe: int,
        tags: Mapping[str, TagLayout],
        store: BitmapStore,
        dense: DenseIds | Path,
        version: int | None = None,
    ) -> None:
        self.entity = entity
        self.row_count = row_count
        self.universe_ref = universe
        self.layouts = dict(tags)
        self.store = store
        self._as_of = as_of
        # A snapshot's key map is read on the first ``keys`` call: opening stays milliseconds.
        self._dense = dense
        self._version = version

    @classmethod
    def build(
        cls,
        table: pa.Table,
        specs: Sequence[TagSpec],
        *,
        entity: Entity,
        as_of: dt.date,
        dense: DenseIds,
    ) -> TagIndex:
        """Index ``table`` (the entity key column and one column per spec typed per
        ``spec.arrow_type``, nulls allowed), mapping its keys with ``dense.assign``."""
        _same_entity(specs, entity)
        return cls._build(
            table.column(ENTITY_KEYS[entity]),
            [(specs, table)],
            entity=entity,
            as_of=as_of,
            dense=dense,
        )

    @classmethod
    def build_from_file(
        cls,
        path: Path,
        specs: Sequence[TagSpec],
        *,
        entity: Entity,
        as_of: dt.date,
        dense: DenseIds,
        columns_per_pass: int = 24,
    ) -> TagIndex:
        """Index a Parquet tag table a few columns at a time, so a 10M-row table of hundreds of
        tags never sits in memory whole."""
        _same_entity(specs, entity)
        keys = pq.read_table(path, columns=[ENTITY_KEYS[entity]]).column(0)
        passes = (
            (chunk, pq.read_table(path, columns=[s.id for s in chunk]))
            for chunk in (
                specs[i : i + columns_per_pass] for i in range(0, len(specs), columns_per_pass)
            )
        )
        return cls._build(keys, passes, entity=entity, as_of=as_of, dense=dense)

    @classmethod
    def _build(
        cls,
        keys: pa.ChunkedArray[Any],
        passes: Iterable[tuple[Sequence[TagSpec], pa.Table]],
        *,
        entity: Entity,
        as_of: dt.date,
        dense: DenseIds,
    ) -> TagIndex:
        ids = dense.assign(keys)
        order = _id_order(ids)
        if order is not None:
            ids = ids[order]
        store: list[BitMap] = [to_bitmap(ids)]
        layouts = {}
        for specs, table in passes:
            for spec in specs:
                column = _prepare(table.column(spec.id), spec, ids=ids, order=order, store=store)
                layouts[spec.id] = _ENCODERS[KINDS[spec.value_type]](spec, column, store)
        return cls(
            entity=entity,
            as_of=as_of,
            row_count=len(keys),
            universe=0,
            tags=layouts,
            store=store,
            dense=dense,
        )

    # -- TagBitmaps --------------------------------------------------------------------------
    @property
    def as_of(self) -> dt.date:
        return self._as_of

    def universe(self) -> BitMap:
        return self.store[self.universe_ref].copy()

    def spec(self, tag_id: str) -> TagSpec:
        return self.layouts[tag_id].spec

    def compare(self, tag_id: str, op: Comparison, value: Scalar) -> BitMap:
        layout = self.layouts[tag_id]
        if op not in COMPARISONS:
            raise ValueError(f"unknown comparison {op!r}")
        if layout.kind == "bsi":
            number = _number(layout.spec, value)
            if layout.values:
                return self._valued(layout, lambda v: _COMPARE[op](v, number))
            return self._sliced(layout).compare(op, number)
        key = _category(layout.spec, value)
        if op == "=":
            return self._value(layout, key)
        if op == "!=":
            return self.present(tag_id) - self._value(layout, key)
        raise TypeError(f"{op} does not order {layout.spec.value_type} tag {tag_id}")

    def one_of(self, tag_id: str, values: Iterable[Scalar]) -> BitMap:
        layout = self.layouts[tag_id]
        if layout.kind == "bsi":
            numbers = {_number(layout.spec, value) for value in values}
            if layout.values:
                return self._valued(layout, numbers.__contains__)
            return self._sliced(layout).one_of(numbers)
        answer = BitMap()
        for key in {_category(layout.spec, value) for value in values}:
            ref = layout.values.get(key)
            if ref is not None:
                answer |= self.store[ref]
        return answer

    def between(self, tag_id: str, low: Scalar, high: Scalar) -> BitMap:
        layout = self.layouts[tag_id]
        if layout.kind != "bsi":
            raise TypeError(f"between needs a number or date tag, not {tag_id}")
        first, last = _number(layout.spec, low), _number(layout.spec, high)
        if layout.values:
            return self._valued(layout, lambda v: first <= v <= last)
        return self._sliced(layout).between(first, last)

    def present(self, tag_id: str) -> BitMap:
        return self.store[self.layouts[tag_id].present].copy()

    def keys(self, ids: BitMap) -> Sequence[str]:
        """The keys of ``ids`` in id order; ids whose key was since forgotten are left out."""
        if isinstance(self._dense, Path):
            self._dense = DenseIds.load(self._dense)
        return cast(list[str], self._dense.keys_of(ids).drop_null().to_pylist())

    # -- summaries ---------------------------------------------------------------------------
    @property
    def tag_ids(self) -> tuple[str, ...]:
        return tuple(self.layouts)

    @property
    def version(self) -> int | None:
        return self._version

    def mark_saved(self, version: int) -> None:
        """Record the snapshot version this index was written as."""
        self._version = version

    def coverage(self, tag_id: str) -> float:
        """The share of the universe with a value for the tag (0.0 for an empty universe)."""
        return self.layouts[tag_id].count / self.row_count if self.row_count else 0.0

    def distribution(self, tag_id: str) -> Distribution:
        return _distribution(self.layouts[tag_id])

    # -- internals ---------------------------------------------------------------------------
    def _value(self, layout: TagLayout, key: str) -> BitMap:
        ref = layout.values.get(key)
        return BitMap() if ref is None else self.store[ref].copy()

    def _valued(self, layout: TagLayout, wanted: Callable[[int], bool]) -> BitMap:
        """A predicate on a number or date tag with few distinct values, as a union of their
        bitmaps: one multi-way union instead of a walk over every bit slice. When most values
        match, the few that do not are taken from the tag's present ids instead."""
        refs = [(wanted(int(value)), ref) for value, ref in layout.values.items()]
        taken = [ref for hit, ref in refs if hit]
        if len(taken) * 2 <= len(refs):
            return BitMap.union(*(self.store[ref] for ref in taken)) if taken else BitMap()
        left = [self.store[ref] for hit, ref in refs if not hit]
        present = self.store[layout.present].copy()
        return present - BitMap.union(*left) if left else present

    def _sliced(self, layout: TagLayout) -> BitSliced:
        slices = [self.store[ref] for ref in layout.slices]
        return BitSliced(layout.minimum, self.store[layout.present], slices)


def _same_entity(specs: Sequence[TagSpec], entity: Entity) -> None:
    for spec in specs:
        if spec.entity != entity:
            raise ValueError(f"tag {spec.id} describes {spec.entity}s, not {entity}s")


def _category(spec: TagSpec, value: object) -> str:
    if spec.value_type == "bool" and isinstance(value, bool):
        return "true" if value else "false"
    if spec.value_type == "enum" and isinstance(value, str):
        return value
    raise TypeError(f"tag {spec.id} holds {spec.value_type} values, not {type(value).__name__}")


def _number(spec: TagSpec, value: object) -> int:
    # bool is an int and datetime a date to isinstance; neither is a number or date tag's value.
    if spec.value_type == "number" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if (
        spec.value_type == "date"
        and isinstance(value, dt.date)
        and not isinstance(value, dt.datetime)
    ):
        return (value - EPOCH).days
    raise TypeError(f"tag {spec.id} holds {spec.value_type} values, not {type(value).__name__}")


@dataclass(frozen=True)
class Bucket:
    """A histogram bar: ids whose value lies in [low, high]."""

    low: int | dt.date
    high: int | dt.date
    count: int


@dataclass(frozen=True)
class Distribution:
    """A tag's values at a glance: ``counts`` for bool and enum tags (domain values first, zeros
    included; bool as "true"/"false"), the rest for number and date tags (quantiles p10...p90)."""

    count: int
    counts: dict[str, int] = field(default_factory=dict)
    minimum: int | dt.date | None = None
    maximum: int | dt.date | None = None
    quantiles: dict[str, int | dt.date] = field(default_factory=dict)
    histogram: tuple[Bucket, ...] = ()


def _distribution(layout: TagLayout) -> Distribution:
    summary = layout.summary
    if layout.kind != "bsi":
        return Distribution(layout.count, counts=dict(summary["counts"]))
    if summary["min"] is None:
        return Distribution(layout.count)

    def typed(raw: int) -> int | dt.date:
        return EPOCH + dt.timedelta(days=raw) if layout.spec.value_type == "date" else raw

    return Distribution(
        layout.count,
        minimum=typed(summary["min"]),
        maximum=typed(summary["max"]),
        quantiles={name: typed(raw) for name, raw in summary["quantiles"].items()},
        histogram=tuple(Bucket(typed(lo), typed(hi), n) for lo, hi, n in summary["histogram"]),
    )


# -- building ------------------------------------------------------------------------------------
def _id_order(ids: Ids) -> Ids | None:
    """The permutation sorting rows by id, None when they already are; duplicates are refused.

    Bitmaps build fastest from ascending ids, and an id ascending table keeps every group so.
    """
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return None
    order = np.argsort(ids, kind="stable").astype(np.uint32)
    ranked = ids[order]
    if bool(np.any(ranked[1:] == ranked[:-1])):
        raise ValueError("the tag table holds a key twice; each person or store needs one row")
    return order


@dataclass(frozen=True)
class _Column:
    """A tag column as numpy: the ids with a value (ascending) and their values, as bools, codes
    into ``names`` (enum), or int64 (numbers, dates as epoch days); ``present`` is their bitmap."""

    ids: Ids
    values: npt.NDArray[Any]
    names: list[str]
    present: int


def _prepare(
    column: pa.ChunkedArray[Any],
    spec: TagSpec,
    *,
    ids: Ids,
    order: Ids | None,
    store: list[BitMap],
) -> _Column:
    whole = column.combine_chunks()
    if whole.type != spec.arrow_type:
        whole = whole.cast(spec.arrow_type)
    names: list[str] = []
    if spec.value_type == "enum":
        encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(whole))
        names = cast(list[str], encoded.dictionary.to_pylist())
        plain = encoded.indices.fill_null(0)
    elif spec.value_type == "date":
        plain = whole.cast(pa.int32()).fill_null(0)
    else:
        plain = whole.fill_null(False if spec.value_type == "bool" else 0)
    values = plain.to_numpy(zero_copy_only=False)
    valid = whole.is_valid().to_numpy(zero_copy_only=False) if whole.null_count else None
    if order is not None:
        # Gathering numpy values is far cheaper than Arrow's take on strings or bits.
        values = values[order]
        valid = None if valid is None else valid[order]
    if valid is None:
        return _Column(ids, values, names, present=0)  # every row has a value: the universe
    kept = np.compress(valid, ids)
    return _Column(kept, np.compress(valid, values), names, present=_add(store, kept))


def _add(store: list[BitMap], ids: Ids | BitMap) -> int:
    store.append(ids if isinstance(ids, BitMap) else to_bitmap(ids))
    return len(store) - 1


def _encode_bool(spec: TagSpec, column: _Column, store: list[BitMap]) -> TagLayout:
    yes, no = np.compress(column.values, column.ids), np.compress(~column.values, column.ids)
    counts = {"true": len(yes), "false": len(no)}
    values = {"true": _add(store, yes), "false": _add(store, no)}
    return TagLayout(spec, column.present, len(column.ids), values, summary={"counts": counts})


def _encode_enum(spec: TagSpec, column: _Column, store: list[BitMap]) -> TagLayout:
    names, codes = column.names, column.values
    sizes = np.bincount(codes, minlength=len(names)).tolist()
    if len(names) <= _FEW_VALUES:
        # One masked pass per value beats a sort over every row when values are few.
        groups = [np.compress(codes == code, column.ids) for code in range(len(names))]
    else:
        # A stable sort keeps each value's ids ascending; on 16-bit codes numpy sorts by radix.
        narrow = codes.astype(np.uint16) if len(names) <= 1 << 16 else codes
        grouped = column.ids[np.argsort(narrow, kind="stable")]
        ends = np.cumsum(sizes).tolist()
        groups = [grouped[end - size : end] for size, end in zip(sizes, ends, strict=True)]
    values = {name: _add(store, group) for name, group in zip(names, groups, strict=True)}
    seen = dict(zip(names, sizes, strict=True))
    extra = sorted(set(seen) - set(spec.values), key=lambda name: (-seen[name], name))
    counts = {name: seen.get(name, 0) for name in (*spec.values, *extra)}
    return TagLayout(spec, column.present, len(column.ids), values, summary={"counts": counts})


def _encode_sliced(spec: TagSpec, column: _Column, store: list[BitMap]) -> TagLayout:
    numbers = column.values.astype(np.int64, copy=False)
    sliced = BitSliced.build(column.ids, numbers, existence=store[column.present])
    slices = tuple(_add(store, bitmap) for bitmap in sliced.slices)
    distinct, codes = np.unique(numbers, return_inverse=True)
    values: dict[str, int] = {}
    if len(distinct) <= _VALUED_NUMBERS:
        # Most number tags are small counts, scores or shares: a bitmap per value answers a
        # range with one union, several times faster than the slices on 10M persons.
        groups = [np.compress(codes == code, column.ids) for code in range(len(distinct))]
        values = {
            str(int(v)): _add(store, group) for v, group in zip(distinct, groups, strict=True)
        }
    return TagLayout(
        spec,
        column.present,
        len(column.ids),
        values=values,
        minimum=sliced.minimum,
        slices=slices,
        summary=spread_of(numbers),
    )


_ENCODERS = {"bool": _encode_bool, "enum": _encode_enum, "bsi": _encode_sliced}
