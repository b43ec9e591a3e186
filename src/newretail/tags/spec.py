"""What a tag is: the declarative definition every part of the tag engine and audiences agrees on.

Tag values are stored in one wide table per entity (``person_id`` or ``store_id`` and one column per
tag). A value's Arrow type follows its tag's value type: bool → ``bool``, enum → ``string``, number →
``int64`` (money in minor units, shares in percent, counts, days), date → ``date32``. Null means the
tag has no value for that person or store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

ValueType = Literal["bool", "enum", "number", "date"]
Category = Literal[
    "attribute", "behaviour", "preference", "lifecycle", "value", "prediction", "store"
]
Entity = Literal["person", "store"]
Source = Literal["expression", "model", "list"]
Refresh = Literal["daily", "realtime"]

VALUE_TYPES: tuple[ValueType, ...] = ("bool", "enum", "number", "date")
CATEGORIES: tuple[Category, ...] = (
    "attribute",
    "behaviour",
    "preference",
    "lifecycle",
    "value",
    "prediction",
    "store",
)
ENTITIES: tuple[Entity, ...] = ("person", "store")
ENTITY_KEYS: dict[Entity, str] = {"person": "person_id", "store": "store_id"}

ARROW_TYPES: dict[ValueType, pa.DataType] = {
    "bool": pa.bool_(),
    "enum": pa.string(),
    "number": pa.int64(),
    "date": pa.date32(),
}


@dataclass(frozen=True)
class TagSpec:
    """One tag.

    ``definition`` depends on ``source``: for ``expression`` it is a SQL expression (DuckDB dialect,
    transpiled for Spark) over the entity's feature table; for ``model`` it names the model whose
    output the tag is; for ``list`` it names the uploaded list. ``values`` is an enum tag's domain in
    display order (empty for other types). ``unit`` says what a number counts (``orders``,
    ``minor``, ``percent``, ``days``...).
    """

    id: str
    name_zh: str
    name_en: str
    category: Category
    entity: Entity
    value_type: ValueType
    definition: str
    description_zh: str
    description_en: str
    source: Source = "expression"
    values: tuple[str, ...] = ()
    unit: str | None = None
    refresh: Refresh = "daily"
    owner: str = "newretail"

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.value_type]
