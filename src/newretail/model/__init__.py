"""The canonical model: every source is mapped once into these tables, and applications read only them."""

from __future__ import annotations

from newretail.errors import NotFound
from newretail.model import engagement, environment, goods, operations, people, places, stock, trade
from newretail.model.spec import TableSpec, col, description_of

CANONICAL: tuple[TableSpec, ...] = (
    *places.TABLES,
    *goods.TABLES,
    *people.TABLES,
    *trade.TABLES,
    *engagement.TABLES,
    *stock.TABLES,
    *operations.TABLES,
    *environment.TABLES,
)
_BY_NAME = {spec.name: spec for spec in CANONICAL}


def table(name: str) -> TableSpec:
    """The canonical table called ``name`` (DWD and DWS tables: ``model.dwd``, ``model.dws``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise NotFound("model.unknown_table", f"no canonical table named {name!r}") from None


__all__ = ["CANONICAL", "TableSpec", "col", "description_of", "table"]
