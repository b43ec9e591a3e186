"""A person tag index with its real-time tags answered live: the snapshot plus the stream since.

:class:`RealtimeView` wraps a snapshot's :class:`~newretail.tags.index.TagIndex` and a
:class:`~newretail.tags.realtime_store.RealtimeTagStore`. A tag of the snapshot with
``refresh = "realtime"`` and a rule in :data:`~newretail.tags.realtime.RULES` is answered from the
store's bitmaps (read once per view, on first use); every other tag passes through. It is a
``TagIndex`` (so the audience service's ``Indexes`` takes it) and so a ``TagBitmaps``. Build one per
request with :func:`with_realtime`: it is cheap, and ``today`` is the request's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from pyroaring import BitMap

from newretail.tags.bsi import COMPARISONS
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import Distribution, TagIndex
from newretail.tags.lookup import Comparison, Scalar
from newretail.tags.realtime import RULES, DayFlag, Rule, days_after
from newretail.tags.realtime_store import RealtimeTagStore


class HasPersons(Protocol):
    """The audience service's ``Indexes``: a dataclass with a person index (and a store one)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def persons(self) -> TagIndex: ...


_Pair = TypeVar("_Pair", bound=HasPersons)


def with_realtime(indexes: _Pair, store: RealtimeTagStore, *, today: dt.date) -> _Pair:
    """``indexes`` (the audience service's ``Indexes``) with its person index answering real-time
    tags live as of UTC date ``today``; the store index is unchanged.

    >>> live = with_realtime(holder.get(), store, today=dt.datetime.now(dt.UTC).date())  # doctest: +SKIP
    >>> select(live, compiled)  # doctest: +SKIP
    """
    view = RealtimeView(indexes.persons, store, today=today)
    return dataclasses.replace(indexes, persons=view)


class RealtimeView(TagIndex):
    """``base`` with its real-time tags live as of ``today``. Answers stay within ``base``'s
    universe; ``as_of`` and ``version`` stay ``base``'s (the daily tags describe that date)."""

    def __init__(self, base: TagIndex, store: RealtimeTagStore, *, today: dt.date) -> None:
        super().__init__(
            entity=base.entity,
            as_of=base.as_of,
            row_count=base.row_count,
            universe=base.universe_ref,
            tags=base.layouts,
            store=base.store,
            dense=DenseIds.empty(),  # unused: keys() asks base, which caches its key map
            version=base.version,
        )
        self.base = base
        self.today = today
        self._live_store = store
        self._rules: dict[str, Rule] = {
            tag_id: RULES[tag_id]
            for tag_id, layout in base.layouts.items()
            if layout.spec.refresh == "realtime" and tag_id in RULES
        }
        self._true: dict[str, BitMap] = {}

    @property
    def live_tags(self) -> tuple[str, ...]:
        """The tags this view answers from the stream."""
        return tuple(self._rules)

    def holds(self, tag_id: str) -> BitMap:
        """The ids whose live value of real-time bool tag ``tag_id`` is true."""
        found = self._true.get(tag_id)
        if found is None:
            found = self._true[tag_id] = self._compute(tag_id, self._rules[tag_id])
        return found.copy()

    # -- TagBitmaps --------------------------------------------------------------------------
    def compare(self, tag_id: str, op: Comparison, value: Scalar) -> BitMap:
        if tag_id not in self._rules:
            return self.base.compare(tag_id, op, value)
        if op not in COMPARISONS:
            raise ValueError(f"unknown comparison {op!r}")
        if op not in ("=", "!=") or not isinstance(value, bool):
            return self.base.compare(tag_id, op, value)  # raises the index's TypeError
        wanted = value if op == "=" else not value
        return self.holds(tag_id) if wanted else self.present(tag_id) - self.holds(tag_id)

    def one_of(self, tag_id: str, values: Iterable[Scalar]) -> BitMap:
        if tag_id not in self._rules:
            return self.base.one_of(tag_id, values)
        answer = BitMap()
        for value in set(values):
            answer |= self.compare(tag_id, "=", value)
        return answer

    def between(self, tag_id: str, low: Scalar, high: Scalar) -> BitMap:
        return self.base.between(tag_id, low, high)

    def present(self, tag_id: str) -> BitMap:
        found = self.base.present(tag_id)
        if tag_id in self._rules:
            found |= self.holds(tag_id)  # a live true is a value, whatever the baseline had
        return found

    def keys(self, ids: BitMap) -> Sequence[str]:
        return self.base.keys(ids)

    def distribution(self, tag_id: str) -> Distribution:
        if tag_id not in self._rules:
            return self.base.distribution(tag_id)
        present = self.present(tag_id)
        true = len(self.holds(tag_id))
        return Distribution(len(present), counts={"true": true, "false": len(present) - true})

    def coverage(self, tag_id: str) -> float:
        if tag_id not in self._rules:
            return self.base.coverage(tag_id)
        return len(self.present(tag_id)) / self.row_count if self.row_count else 0.0

    # -- internals ---------------------------------------------------------------------------
    def _compute(self, tag_id: str, rule: Rule) -> BitMap:
        if isinstance(rule, DayFlag):
            live = self._live_store.bitmap(rule.signal, self.today)
            if self.today == self.as_of:
                live |= self.base.compare(tag_id, "=", True)
        else:
            days = days_after(self.as_of, self.today)
            live = self.base.compare(tag_id, "=", True)
            ons = self._live_store.bitmaps(rule.on, days)
            offs = self._live_store.bitmaps(rule.off, days)
            for on, off in zip(ons, offs, strict=True):
                live -= off
                live |= on
        # Ids the consumer mapped with a newer key map than this snapshot's are left out.
        live &= self.base.universe()
        return live
