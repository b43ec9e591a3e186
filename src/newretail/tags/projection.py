"""Tag definitions as one SELECT over an entity's feature table, written once in DuckDB SQL.

Each expression definition is parsed (sqlglot, DuckDB dialect), checked to be one scalar expression
over the feature columns (no subquery, aggregate or window), cast to its tag's type and generated in
the engine's dialect, so the same text runs on DuckDB and on Spark. ``model`` tags read the feature
column their model writes; ``list`` tags read the membership flag the compute step joins in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from newretail.tags.catalogue import InvalidTagDefinition
from newretail.tags.spec import TagSpec

FEATURES = "tag_features"
_SQL_TYPES = {"bool": "BOOLEAN", "enum": "VARCHAR", "number": "BIGINT", "date": "DATE"}
# DuckDB result types each value type accepts before the final cast ("NULL": a bare NULL).
_ACCEPTED = {
    "bool": {"BOOLEAN"},
    "enum": {"VARCHAR"},
    "number": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"},
    "date": {"DATE"},
}
_FORBIDDEN = (exp.Subquery, exp.Select, exp.AggFunc, exp.Window, exp.Star, exp.Placeholder)


def list_column(name: str) -> str:
    """The feature column that flags the keys of uploaded list ``name``."""
    return f"list__{name}"


def parse(spec: TagSpec) -> exp.Expr:
    """The tag's value as a sqlglot expression over the feature columns, before the cast."""
    if spec.source == "model":
        return _column(spec.definition)
    if spec.source == "list":
        return _column(list_column(spec.definition))
    try:
        parsed = sqlglot.parse_one(spec.definition, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise _invalid(spec, f"does not parse as DuckDB SQL: {exc}") from None
    if isinstance(parsed, exp.Query | exp.Command) or parsed.find(*_FORBIDDEN) is not None:
        raise _invalid(spec, "must be one scalar expression (no subquery, aggregate or window)")
    return parsed


def _column(name: str) -> exp.Expr:
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def referenced(spec: TagSpec) -> set[str]:
    """The feature columns a tag reads."""
    return {column.name for column in parse(spec).find_all(exp.Column)}


def select_sql(specs: Sequence[TagSpec], *, key: str, dialect: str) -> str:
    """``SELECT key, CAST(<definition> AS <type>) AS "<id>", ... FROM tag_features`` in ``dialect``."""
    columns: list[exp.Expr] = [_column(key)]
    for spec in specs:
        cast = exp.Cast(
            this=exp.Paren(this=parse(spec)), to=exp.DataType.build(_SQL_TYPES[spec.value_type])
        )
        columns.append(exp.alias_(cast, spec.id, quoted=True))
    query = exp.select(*columns).from_(exp.to_table(FEATURES))
    return query.sql(dialect=dialect)


def check(specs: Sequence[TagSpec], *, features: pa.Schema, models: Collection[str]) -> None:
    """Raise :class:`InvalidTagDefinition` for the first tag that does not compute over a feature
    table of schema ``features`` (unknown column, unknown model, wrong type)."""
    known = set(features.names)
    for spec in specs:
        if spec.source == "model" and spec.definition not in models:
            raise _invalid(spec, f"names no model; the models are {', '.join(sorted(models))}")
        if spec.source != "expression":
            continue
        missing = referenced(spec) - known
        if missing:
            raise _invalid(spec, f"reads unknown feature columns {sorted(missing)}")
    expressions = [s for s in specs if s.source == "expression"]
    if not expressions:
        return
    con = duckdb.connect()
    try:
        con.register(FEATURES, features.empty_table())
        for spec in expressions:
            sql = exp.select(exp.alias_(parse(spec), "value")).from_(FEATURES).sql("duckdb")
            try:
                got = str(con.sql(sql).types[0])
            except duckdb.Error as exc:
                raise _invalid(spec, f"fails on DuckDB: {exc}") from None
            if got != '"NULL"' and got not in _ACCEPTED[spec.value_type]:
                raise _invalid(spec, f"gives {got}, not a {spec.value_type} value")
    finally:
        con.close()


def _invalid(spec: TagSpec, message: str) -> InvalidTagDefinition:
    return InvalidTagDefinition(
        f"tag {spec.id}: definition {message}", field="definition", position=spec.id
    )
