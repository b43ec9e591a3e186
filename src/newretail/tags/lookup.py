"""The questions audience evaluation asks a bitmap index, as a protocol the index answers.

Every answer is a set of dense ids (a ``pyroaring.BitMap``) the caller may modify. Comparisons use
SQL's two-valued reading of a missing value: a person whose tag is null is in no comparison's answer
(``!=`` included) and is in the complement a NOT takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

from pyroaring import BitMap

from newretail.tags.spec import TagSpec

Scalar = bool | str | int | dt.date
Comparison = Literal["=", "!=", "<", "<=", ">", ">="]


class TagBitmaps(Protocol):
    """One entity's (persons' or stores') tag values as bitmaps, as of one refresh."""

    @property
    def as_of(self) -> dt.date:
        """The business date the tag values describe (relative dates count back from it)."""
        ...

    def universe(self) -> BitMap:
        """Every dense id in the snapshot."""
        ...

    def spec(self, tag_id: str) -> TagSpec:
        """The tag's definition; KeyError for a tag the snapshot does not hold."""
        ...

    def compare(self, tag_id: str, op: Comparison, value: Scalar) -> BitMap:
        """Ids whose value compares true (``<``... on number and date tags only)."""
        ...

    def one_of(self, tag_id: str, values: Iterable[Scalar]) -> BitMap:
        """Ids whose value is one of ``values``."""
        ...

    def between(self, tag_id: str, low: Scalar, high: Scalar) -> BitMap:
        """Ids whose number or date value lies in [low, high]."""
        ...

    def present(self, tag_id: str) -> BitMap:
        """Ids with any value for the tag."""
        ...

    def keys(self, ids: BitMap) -> Sequence[str]:
        """The entity keys (person_id or store_id) of dense ids, in id order."""
        ...
