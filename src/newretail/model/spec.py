"""How a canonical table is declared: an Arrow schema whose every field carries its description."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

DESCRIPTION = b"description"

# Shared column types, so every table spells a timestamp, a date or money the same way.
TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
MONEY = pa.int64()  # integer minor units (fen, cents); the currency is always in a sibling column
CURRENCY = pa.string()  # ISO 4217: CNY, SGD
QUANTITY = pa.int64()  # integer base units of a material (g, ml, piece)


def col(
    name: str, type_: pa.DataType, description: str, *, required: bool = False
) -> pa.Field[pa.DataType]:
    """A column with its description; ``required`` columns are non-null and validated at ingest."""
    return pa.field(
        name, type_, nullable=not required, metadata={DESCRIPTION: description.encode()}
    )


def description_of(field: pa.Field[pa.DataType]) -> str:
    return (field.metadata or {}).get(DESCRIPTION, b"").decode()


@dataclass(frozen=True)
class TableSpec:
    """A canonical table.

    ``key`` is the natural key (unique after deduplication). ``partition_by`` are Hive partition
    columns in path order; a dated table ends with ``business_date`` (the local date at the store, or
    the UTC date where no store applies). ``enums`` lists the allowed values of coded columns.
    """

    name: str
    subject: str
    description: str
    schema: pa.Schema
    key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    enums: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        names = set(self.schema.names)
        for column in (*self.key, *self.partition_by, *(c for c, _ in self.enums)):
            if column not in names:
                raise ValueError(f"{self.name}: {column!r} is not a column")
        for field in self.schema:
            if not description_of(field):
                raise ValueError(f"{self.name}.{field.name} has no description")

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema if not f.nullable)

    def allowed(self, column: str) -> tuple[str, ...] | None:
        return dict(self.enums).get(column)
