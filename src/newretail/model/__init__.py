"""The canonical model: every source is mapped once into these tables, and applications read only them."""

from __future__ import annotations

from newretail.errors import NotFound
from newretail.model import engagement, goods, operations, people, places, stock, trade
from newretail.model.spec import TableSpec, col, description_of

CANONICAL: tuple[TableSpec, ...] = (
    *places.TABLES,
    *goods.TABLES,
    *people.TABLES,
    *trade.TABLES,
    *engagement.TABLES,
    *stock.TABLES,
    *operations.TABLES,
)
# Derived layers register their tables here too, so lookups and docs cover every layer.
ALL_TABLES: tuple[TableSpec, ...] = CANONICAL
_BY_NAME = {spec.name: spec for spec in ALL_TABLES}


def table(name: str) -> TableSpec:
    """The canonical table called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise NotFound("model.unknown_table", f"no canonical table named {name!r}") from None


__all__ = ["ALL_TABLES", "CANONICAL", "TableSpec", "col", "description_of", "table"]
