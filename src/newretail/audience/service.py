"""What marketers ask of audiences, answered on the current tag snapshots: a size while they type,
the overlap of two audiences, a breakdown by city, channel or lifecycle, a store selection; and
the saved audiences' refresh after each tag refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap
from sqlalchemy import Connection, Engine

from newretail.audience.check import check
from newretail.audience.errors import ExpressionError
from newretail.audience.evaluate import evaluate
from newretail.audience.expression import Expr, from_json, to_json
from newretail.audience.indexes import Indexes
from newretail.audience.parser import parse
from newretail.audience.printer import to_text
from newretail.audience.saved import get_audience, live_audiences, record_sizes
from newretail.errors import InvalidInput
from newretail.tags.index import TagIndex
from newretail.tags.spec import Entity, TagSpec


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked expression in its three forms."""

    entity: Entity
    expr: Expr
    text: str
    tree: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Selection:
    compiled: Compiled
    members: BitMap
    universe: int
    as_of: dt.date
    index_version: int


@dataclass(frozen=True, slots=True)
class Overlap:
    a: int
    b: int
    both: int
    either: int
    as_of: dt.date
    index_version: int

    @property
    def jaccard(self) -> float:
        return self.both / self.either if self.either else 0.0


@dataclass(frozen=True, slots=True)
class Breakdown:
    spec: TagSpec
    counts: list[tuple[str | None, int]]  # None: persons without a value


class _Vocabulary:
    """An index's tags as the checker's vocabulary: only tags the snapshot holds can be used."""

    def __init__(self, index: TagIndex) -> None:
        self._index = index

    def tag(self, tag_id: str) -> TagSpec | None:
        try:
            return self._index.spec(tag_id)
        except KeyError:
            return None

    def tag_ids(self) -> Sequence[str]:
        return self._index.tag_ids


def compile_expression(
    indexes: Indexes, *, text: str | None, tree: Mapping[str, Any] | None, entity: Entity
) -> Compiled:
    """Parse (text) or read (JSON tree) an expression and check it against the snapshot's tags;
    ExpressionError (400) with the position and the nearest names otherwise."""
    expr = parse(text) if text is not None else from_json(tree)
    index = indexes.of(entity)
    stores = None if indexes.stores is None else _Vocabulary(indexes.stores)
    check(expr, _Vocabulary(index), entity=entity, stores=stores)
    return Compiled(entity, expr, to_text(expr), to_json(expr))


def compile_saved(conn: Connection, indexes: Indexes, audience_id: str) -> Compiled:
    """A saved audience's expression checked against the snapshot's tags: NotFound for an unknown
    id, ExpressionError when a tag it uses has since been removed."""
    audience = get_audience(conn, audience_id)
    return compile_expression(indexes, text=None, tree=audience.expression, entity=audience.entity)


def select(indexes: Indexes, compiled: Compiled) -> Selection:
    """The ids an expression selects on the current snapshot."""
    index = indexes.of(compiled.entity)
    stores = indexes.stores if compiled.entity == "person" else None
    members = evaluate(compiled.expr, index, stores=stores)
    return Selection(
        compiled=compiled,
        members=members,
        universe=len(index.universe()),
        as_of=index.as_of,
        index_version=_version(index),
    )


def overlap(indexes: Indexes, a: Compiled, b: Compiled) -> Overlap:
    first, second = select(indexes, a), select(indexes, b)
    both = first.members.intersection_cardinality(second.members)
    size_a, size_b = len(first.members), len(second.members)
    return Overlap(
        a=size_a,
        b=size_b,
        both=both,
        either=size_a + size_b - both,
        as_of=first.as_of,
        index_version=first.index_version,
    )


def breakdown(indexes: Indexes, members: BitMap, tag_ids: Sequence[str]) -> list[Breakdown]:
    """Counts of ``members`` per value of each enum or bool person tag, largest first."""
    index = indexes.persons
    result = []
    for tag_id in tag_ids:
        try:
            spec = index.spec(tag_id)
        except KeyError:
            raise InvalidInput(
                "audience.unknown_breakdown_tag", f"there is no person tag {tag_id!r}", field="by"
            ) from None
        if spec.value_type not in ("enum", "bool"):
            raise InvalidInput(
                "audience.breakdown_not_categorical",
                f"{tag_id} is a {spec.value_type} tag; break down by an enum or bool tag",
                field="by",
            )
        values = _values(index, spec)
        counts: list[tuple[str | None, int]] = []
        for value in values:
            raw: bool | str = (value == "true") if spec.value_type == "bool" else value
            count = members.intersection_cardinality(index.one_of(tag_id, [raw]))
            if count:
                counts.append((value, count))
        counts.sort(key=lambda item: -item[1])
        missing = len(members) - members.intersection_cardinality(index.present(tag_id))
        if missing:
            counts.append((None, missing))
        result.append(Breakdown(spec, counts))
    return result


def _values(index: TagIndex, spec: TagSpec) -> list[str]:
    if spec.value_type == "bool":
        return ["true", "false"]
    return list(dict.fromkeys([*spec.values, *index.distribution(spec.id).counts]))


def refresh_saved(engine: Engine, indexes: Indexes, *, now: dt.datetime) -> dict[str, int]:
    """Recount every live audience on the current snapshots and record the sizes (once per
    snapshot version); the sizes by audience id. An audience whose expression no longer checks
    (a tag it used was removed) is skipped and left out of the result."""
    with engine.connect() as conn:
        saved = live_audiences(conn)
    sizes: dict[str, dict[str, int]] = {"person": {}, "store": {}}
    for audience in saved:
        try:
            compiled = compile_expression(
                indexes, text=None, tree=audience.expression, entity=audience.entity
            )
        except ExpressionError:
            continue
        sizes[audience.entity][audience.id] = len(select(indexes, compiled).members)
    with engine.begin() as conn:
        for entity, by_id in sizes.items():
            if not by_id or (entity == "store" and indexes.stores is None):
                continue
            index = indexes.of(entity)  # type: ignore[arg-type]
            record_sizes(conn, by_id, index_version=_version(index), as_of=index.as_of, now=now)
    return {**sizes["person"], **sizes["store"]}


def _version(index: TagIndex) -> int:
    # A built, never saved index has no version; only saved snapshots are served.
    return index.version or 0
