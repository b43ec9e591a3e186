"""A declaration checked against its canonical table and resolved into what validation needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from newretail.errors import InvalidInput
from newretail.ingest.mapping import Column, Parse, SourceFile
from newretail.model import TableSpec, table

PII_PARSES: frozenset[Parse] = frozenset({"phone", "email"})
PII_SUFFIXES = ("_hash", "_masked", "_cipher")
# Dimensions that other tables are checked against go first, in this order (see runner).
REFERENCE_TABLES = ("stores", "warehouses", "products", "materials")


def _is_int(t: pa.DataType) -> bool:
    return pa.types.is_integer(t)


# Which canonical column types each parse may fill; anything else is a declaration bug.
_COMPATIBLE: dict[str, Callable[[pa.DataType], bool]] = {
    "text": pa.types.is_string,
    "int": _is_int,
    "float": pa.types.is_floating,
    "bool": pa.types.is_boolean,
    "date": pa.types.is_date32,
    "money": _is_int,
    "minor": _is_int,
    "utc_time": pa.types.is_timestamp,
    "local_time": pa.types.is_timestamp,
    "json": pa.types.is_string,
}


@dataclass(frozen=True)
class Plan:
    """A :class:`SourceFile` with its :class:`TableSpec` and the canonical columns it fills."""

    decl: SourceFile
    spec: TableSpec

    @property
    def is_dimension(self) -> bool:
        return "business_date" not in self.spec.partition_by

    @property
    def order(self) -> int:
        """Reference dimensions first, then other dimensions, then dated facts."""
        if self.spec.name in REFERENCE_TABLES:
            return REFERENCE_TABLES.index(self.spec.name)
        return len(REFERENCE_TABLES) + (0 if self.is_dimension else 1)

    @property
    def source_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.decl.columns if c.source is not None)

    @property
    def pii_fields(self) -> dict[str, Parse]:
        """Source field -> ``phone``/``email`` for the fields that hold clear PII."""
        return {c.source: c.parse for c in self.decl.columns if c.source and c.parse in PII_PARSES}

    @property
    def derived(self) -> tuple[str, ...]:
        """Canonical columns the engine fills itself (source, business date and hour)."""
        out = ["source"]
        if self.decl.business_date is not None:
            out.append("business_date")
            if self.decl.business_date.hour:
                out.append(self.decl.business_date.hour)
        return tuple(out)


def plan(decl: SourceFile) -> Plan:
    """Check ``decl`` against its canonical table; a mismatch is a bug in the declarations."""
    spec = table(decl.table)
    names = set(spec.schema.names)
    result = Plan(decl=decl, spec=spec)
    filled = set(result.derived)
    for column in decl.columns:
        if column.parse in PII_PARSES:
            targets = [column.target + suffix for suffix in PII_SUFFIXES]
            if not set(targets) <= names:
                _bad(decl, f"{column.target}: {', '.join(targets)} are not all columns")
            filled.update(targets)
            continue
        if column.target not in names:
            _bad(decl, f"{column.target!r} is not a column of {spec.name}")
        if column.target in result.derived:
            _bad(decl, f"{column.target!r} is filled by the engine; do not declare it")
        if not _COMPATIBLE[column.parse](spec.schema.field(column.target).type):
            _bad(decl, f"{column.target}: parse {column.parse!r} cannot fill its type")
        filled.add(column.target)
    missing = [name for name in spec.required if name not in filled]
    if missing:
        _bad(decl, f"required columns not declared: {', '.join(missing)}")
    by_target = {c.target: c for c in decl.columns}
    date = decl.business_date
    if date is not None:
        source = by_target.get(date.from_column)
        if source is None or source.parse not in ("utc_time", "local_time"):
            _bad(decl, f"business date column {date.from_column!r} is not a declared timestamp")
        if date.hour and date.hour not in names:
            _bad(decl, f"hour column {date.hour!r} is not a column")
    needs_tz = any(c.parse == "local_time" for c in decl.columns) or (
        date is not None and date.local
    )
    if needs_tz and decl.tz_from not in ("store_id", "location_id"):
        _bad(decl, "local times need tz_from = 'store_id' or 'location_id'")
    if decl.tz_from is not None and decl.tz_from not in by_target:
        _bad(decl, f"tz_from {decl.tz_from!r} is not a declared column")
    if decl.tz_from == "location_id" and "location_type" not in by_target:
        _bad(decl, "tz_from 'location_id' needs a declared location_type")
    refs = decl.references
    for column_name in (*refs.store, *refs.product, *refs.material, *refs.location):
        if column_name not in by_target:
            _bad(decl, f"reference column {column_name!r} is not declared")
    if refs.location and "location_type" not in by_target:
        _bad(decl, "location references need a declared location_type")
    return result


def _bad(decl: SourceFile, message: str) -> None:
    raise InvalidInput("ingest.bad_declaration", f"{decl.name}: {message}", field=decl.name)
