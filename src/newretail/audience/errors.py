"""The one error an audience expression raises: a stable ``code``, where it is, and hints to fix it.

Codes (a public contract; the API returns them as 400 problem+json):

- ``audience.syntax``: the text does not parse; ``hints`` lists the tokens that were expected.
- ``audience.empty``: the expression is empty or only whitespace.
- ``audience.too_deep``: nesting deeper than 32 levels (AND/OR/NOT/STORES or parentheses).
- ``audience.invalid_json``: the JSON form has the wrong shape; ``field`` is its JSON path.
- ``audience.invalid_value``: a literal out of range (an integer beyond 64 bits, a bad date, a
  negative ``DAYS_AGO``, ``BOUGHT`` days outside 1..36600).
- ``audience.unknown_tag``: no such tag; ``hints`` lists the nearest tag ids.
- ``audience.wrong_entity``: a store tag in a person expression or the other way round.
- ``audience.type_mismatch``: a value or operator the tag's type does not allow (a string
  compared to a number tag, ``<`` on an enum, a bare tag that is not a bool).
- ``audience.unknown_value``: an enum value outside the tag's domain, or a ``BOUGHT`` category or
  line the catalogue lacks; ``hints`` lists the allowed values.
- ``audience.not_allowed``: a construct the context does not allow (``IN STORES`` without a store
  vocabulary or inside a store expression, ``BOUGHT`` in a store expression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from newretail.errors import NewRetailError

ErrorCode = Literal[
    "audience.syntax",
    "audience.empty",
    "audience.too_deep",
    "audience.invalid_json",
    "audience.invalid_value",
    "audience.unknown_tag",
    "audience.wrong_entity",
    "audience.type_mismatch",
    "audience.unknown_value",
    "audience.not_allowed",
]


@dataclass(frozen=True)
class Site:
    """Where a piece of an expression came from: a place in the text or a path in the JSON."""

    position: str
    offset: int | None = None
    field: str | None = None

    @classmethod
    def in_text(cls, text: str, offset: int) -> Site:
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return cls(f"line {line}, column {column}", offset=offset)

    @classmethod
    def in_json(cls, path: str) -> Site:
        return cls(path, field=path)


class ExpressionError(NewRetailError):
    """An audience expression that cannot be parsed, checked or evaluated.

    ``position`` is ``"line 1, column 27"`` for text or a JSON path (``"$.and[2].tag"``, also in
    ``field``) for the JSON form; ``offset`` is the 0-based character offset in the text (None for
    JSON); ``hints`` are what the user probably meant (near tag ids, allowed values, expected tokens).
    """

    http_status = 400

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        site: Site | None = None,
        hints: Sequence[str] = (),
    ) -> None:
        super().__init__(
            code,
            message,
            field=site.field if site else None,
            position=site.position if site else None,
        )
        self.offset: int | None = site.offset if site else None
        self.hints: list[str] = list(hints)

    def extensions(self) -> dict[str, object]:
        """``offset`` and ``hints`` as members of the API's problem document."""
        return {"offset": self.offset, "hints": list(self.hints)}
