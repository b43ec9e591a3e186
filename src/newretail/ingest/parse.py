"""DuckDB SQL that turns trimmed source text into typed values, one expression per ``Parse``.

Each expression yields NULL for text it cannot read, so "text present, value NULL" is the
rejection test, and the reason code comes from :data:`REASONS`.
"""

from __future__ import annotations

import pyarrow as pa

from newretail.ingest.mapping import Parse

REASONS: dict[Parse, str] = {
    "int": "bad_int",
    "float": "bad_float",
    "bool": "bad_bool",
    "date": "bad_date",
    "money": "bad_money",
    "minor": "bad_money",
    "utc_time": "bad_time",
    "local_time": "bad_time",
    "json": "bad_json",
}

# DuckDB's casts are lenient ('1.5' casts to INTEGER 2, '1e3' to 1000), so the shape of the text
# is checked with a regular expression first and only then cast.
_INT = "'[+-]?[0-9]+'"
# At most 16 digits before the point keeps value * 100 inside BIGINT; more than 2 decimals is refused.
_MONEY = "'[+-]?[0-9]{1,16}([.][0-9]{1,2})?'"
_EPOCH_MS = "'-?[0-9]{1,15}'"
_CLOCK = "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?"
_WITH_OFFSET = f"'{_CLOCK} ?(Z|z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)'"
_NAIVE = f"'{_CLOCK}'"


def duck_type(arrow: pa.DataType) -> str:
    """The DuckDB type whose Arrow export is ``arrow`` (timestamps are UTC instants)."""
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMPTZ"
    simple = {
        pa.string(): "VARCHAR",
        pa.bool_(): "BOOLEAN",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.date32(): "DATE",
        pa.binary(): "BLOB",
    }
    return simple[arrow]


def parse_sql(parse: Parse, value: str, target: pa.DataType) -> str:
    """SQL reading text expression ``value`` as ``parse`` into ``target`` (NULL when unreadable).

    ``local_time`` yields a naive TIMESTAMP; the caller places it in the row's time zone.
    """
    v = value
    if parse in ("text", "phone", "email"):
        return v
    if parse in ("int", "minor"):
        return f"CASE WHEN regexp_full_match({v}, {_INT}) THEN TRY_CAST({v} AS {duck_type(target)}) END"
    if parse == "money":
        return (
            f"CASE WHEN regexp_full_match({v}, {_MONEY})"
            f" THEN TRY_CAST(CAST({v} AS DECIMAL(38, 2)) * 100 AS {duck_type(target)}) END"
        )
    if parse == "float":
        return f"CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) THEN TRY_CAST({v} AS DOUBLE) END"
    if parse == "bool":
        return (
            f"CASE WHEN lower({v}) IN ('1', 'true', 'y') THEN true"
            f" WHEN lower({v}) IN ('0', 'false', 'n') THEN false END"
        )
    if parse == "date":
        return (
            f"CASE WHEN regexp_full_match({v}, '[0-9]{{8}}')"
            f" THEN CAST(TRY_STRPTIME({v}, '%Y%m%d') AS DATE)"
            f" WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            f" THEN TRY_CAST({v} AS DATE) END"
        )
    if parse == "utc_time":
        return (
            f"CASE WHEN regexp_full_match({v}, {_EPOCH_MS})"
            f" THEN CAST(epoch_ms(CAST({v} AS BIGINT)) AS TIMESTAMPTZ)"
            f" WHEN regexp_full_match({v}, {_WITH_OFFSET}) THEN TRY_CAST({v} AS TIMESTAMPTZ) END"
        )
    if parse == "local_time":
        return f"CASE WHEN regexp_full_match({v}, {_NAIVE}) THEN TRY_CAST({v} AS TIMESTAMP) END"
    # json: an object, re-serialised compactly; CASE keeps json_type away from invalid text.
    return (
        f"CASE WHEN json_valid({v}) THEN CASE WHEN json_type({v}) = 'OBJECT'"
        f" THEN CAST(json({v}) AS VARCHAR) END END"
    )
