"""Bit-sliced indexes for number and date tags: range predicates answered by bitmap algebra alone.

O'Neil & Quass, "Improved Query Performance with Variant Indexes" (SIGMOD 1997): a value is stored as
its offset from the column's minimum (so every offset is non-negative), slice ``i`` holds the ids
whose offset has bit ``i`` set, and the existence bitmap holds the ids with any value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from newretail.tags.dense_ids import to_bitmap
from newretail.tags.lookup import Comparison

COMPARISONS: tuple[Comparison, ...] = ("=", "!=", "<", "<=", ">", ">=")
QUANTILES = {"p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90}
BUCKETS = 10


@dataclass(frozen=True)
class BitSliced:
    """One column's bit-sliced index; every answer is a new bitmap the caller may modify.

    >>> ids = np.array([1, 2, 3], dtype=np.uint32)
    >>> index = BitSliced.build(ids, np.array([-5, 7, 7], dtype=np.int64))
    >>> list(index.compare(">=", 0)), list(index.between(-10, -5))
    ([2, 3], [1])
    """

    minimum: int
    existence: BitMap
    slices: Sequence[BitMap]  # slices[i]: ids whose offset has bit i set

    @classmethod
    def build(
        cls,
        ids: npt.NDArray[np.uint32],
        values: npt.NDArray[np.int64],
        *,
        existence: BitMap | None = None,
    ) -> BitSliced:
        """Index ``values[k]`` of id ``ids[k]`` (ids without a value are simply absent).

        ``existence`` may pass a bitmap of ``ids`` the caller already holds.
        """
        present = to_bitmap(ids) if existence is None else existence
        if not len(values):
            return cls(minimum=0, existence=present, slices=())
        minimum = int(values.min())
        # int64 subtraction wraps, and the wrapped bits read as uint64 are the exact offset even
        # when the range spans more than int64 holds.
        offsets = (values - np.int64(minimum)).view(np.uint64)
        depth = int(offsets.max()).bit_length()
        narrow = _narrowest(depth)
        offsets = offsets.astype(narrow, copy=False)
        # np.compress is ~5x faster than boolean indexing on 10M-row columns.
        slices = tuple(
            to_bitmap(np.compress((offsets & narrow(1 << bit)) != 0, ids)) for bit in range(depth)
        )
        return cls(minimum=minimum, existence=present, slices=slices)

    @property
    def ceiling(self) -> int:
        """The largest value the slices can encode (at least the column's maximum)."""
        return self.minimum + (1 << len(self.slices)) - 1

    def compare(self, op: Comparison, value: int) -> BitMap:
        """Ids whose value ``op`` ``value`` holds; ids without a value are never in the answer."""
        if op not in COMPARISONS:
            raise ValueError(f"unknown comparison {op!r}")
        if value < self.minimum:
            return BitMap() if op in ("=", "<", "<=") else self.existence.copy()
        if value > self.ceiling:
            return BitMap() if op in ("=", ">", ">=") else self.existence.copy()
        below, equal, above = self._walk(
            value - self.minimum, below=op in ("<", "<="), above=op in (">", ">=")
        )
        if op == "=":
            return equal
        if op == "!=":
            return self.existence - equal
        if op in ("<", "<="):
            return below | equal if op == "<=" else below
        return above | equal if op == ">=" else above

    def between(self, low: int, high: int) -> BitMap:
        """Ids whose value lies in [low, high]."""
        low, high = max(low, self.minimum), min(high, self.ceiling)
        if low > high:
            return BitMap()
        if low == self.minimum:
            return self.compare("<=", high)
        answer = self.compare(">=", low)
        if high < self.ceiling:
            answer &= self.compare("<=", high)
        return answer

    def one_of(self, values: Iterable[int]) -> BitMap:
        """Ids whose value is one of ``values``."""
        answer = BitMap()
        for value in set(values):
            answer |= self.compare("=", value)
        return answer

    def _walk(self, offset: int, *, below: bool, above: bool) -> tuple[BitMap, BitMap, BitMap]:
        """O'Neil & Quass's range evaluation: from the top slice down, ``equal`` keeps the ids whose
        higher bits match ``offset``; where a bit of ``offset`` is 1, those lacking it fall
        ``below``, where it is 0, those having it rise ``above``. Only asked-for sides are kept."""
        lt, eq, gt = BitMap(), self.existence.copy(), BitMap()
        for bit in reversed(range(len(self.slices))):
            if not eq:
                break  # no id still ties: no lower bit can move one below or above
            ones = self.slices[bit]
            if offset >> bit & 1:
                if below:
                    lt |= eq - ones
                eq &= ones
            else:
                if above:
                    gt |= eq & ones
                eq -= ones
        return lt, eq, gt


def _narrowest(depth: int) -> type[np.unsignedinteger]:
    # Masks over uint8/16/32 columns are cheaper than over uint64: fewer bytes to stream.
    for kind in (np.uint8, np.uint16, np.uint32):
        if depth <= np.iinfo(kind).bits:
            return kind
    return np.uint64


def spread_of(values: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Minimum, maximum, quantiles and a histogram of at most ``BUCKETS`` equal-width bars
    ``[low, high, count]`` (both ends inclusive) of a column's values, as JSON-ready integers.

    >>> spread_of(np.array([3, 1, 2], dtype=np.int64))["histogram"]
    [[1, 1, 1], [2, 2, 1], [3, 3, 1]]
    """
    if not len(values):
        return {"min": None, "max": None, "quantiles": {}, "histogram": []}
    low, high = int(values.min()), int(values.max())
    # inverted_cdf answers with observed values: whole numbers, and real days for date tags.
    picks = np.quantile(values, list(QUANTILES.values()), method="inverted_cdf")
    width = -(-(high - low + 1) // BUCKETS)
    bars = np.bincount(
        ((values - np.int64(low)).view(np.uint64) // np.uint64(width)).astype(np.intp)
    )
    return {
        "min": low,
        "max": high,
        "quantiles": {name: int(pick) for name, pick in zip(QUANTILES, picks, strict=True)},
        "histogram": [
            [low + bar * width, min(low + (bar + 1) * width - 1, high), int(count)]
            for bar, count in enumerate(bars)
        ],
    }
