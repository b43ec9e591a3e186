"""``limit``/``offset`` query parameters for list endpoints, as one dependency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query

MAX_LIMIT = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pagination:
    limit: int
    offset: int

    def page(self, items: Sequence[T]) -> list[T]:
        """This page of an already loaded, already ordered list."""
        return list(items[self.offset : self.offset + self.limit])


def get_pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Page = Annotated[Pagination, Depends(get_pagination)]
