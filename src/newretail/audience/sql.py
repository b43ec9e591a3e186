"""Expression → a DuckDB boolean expression over a wide tag table (one column per tag).

The SQL has the bitmaps' two-valued semantics: every leaf predicate is ``COALESCE(<pred>, FALSE)``,
so NOT selects the rows whose value is null. Identifiers are validated and double-quoted; literals
are rendered by type with strings' quotes doubled, never interpolated raw.
"""

from __future__ import annotations

import datetime as dt
import re

from newretail.audience.errors import ExpressionError
from newretail.audience.expression import (
    TAG_ID,
    And,
    Between,
    Bought,
    Compare,
    DaysAgo,
    Expr,
    InList,
    InStores,
    IsNull,
    Not,
    Or,
    Value,
    value_problem,
)

_TABLE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STORES_ALIAS = '"audience_stores"'
_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def to_sql(
    expr: Expr,
    *,
    as_of: dt.date,
    store_table: str = "store_tags",
    store_key: str = "store_id",
) -> str:
    """A SQL boolean expression selecting the same rows ``evaluate`` selects.

    ``DAYS_AGO`` and ``BOUGHT`` are resolved against ``as_of``; ``IN STORES(...)`` becomes a
    subquery over ``store_table`` (optionally schema-qualified) keyed by ``store_key``.

    >>> import datetime as dt
    >>> from newretail.audience.parser import parse
    >>> to_sql(parse("NOT vip AND city IN ('Shanghai')"), as_of=dt.date(2026, 5, 1))
    '((NOT COALESCE("vip" = TRUE, FALSE)) AND COALESCE("city" IN (\\'Shanghai\\'), FALSE))'
    """
    table = ".".join(_table_part(p) for p in store_table.split("."))
    return _Sql(as_of, table, _table_part(store_key)).render(expr, None)


def _table_part(name: str) -> str:
    if not _TABLE_PART.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def _column(tag: str, qualifier: str | None) -> str:
    if not TAG_ID.fullmatch(tag):
        raise ExpressionError("audience.unknown_tag", f"{tag!r} is not a tag id")
    return f'{qualifier}."{tag}"' if qualifier else f'"{tag}"'


class _Sql:
    def __init__(self, as_of: dt.date, table: str, key: str) -> None:
        self.as_of = as_of
        self.table = table
        self.key = key

    def render(self, expr: Expr, qualifier: str | None) -> str:
        """``qualifier`` is the table alias columns are read from (inside a STORES subquery)."""
        match expr:
            case And(operands):
                return "(" + " AND ".join(self.render(e, qualifier) for e in operands) + ")"
            case Or(operands):
                return "(" + " OR ".join(self.render(e, qualifier) for e in operands) + ")"
            case Not(operand):
                return f"(NOT {self.render(operand, qualifier)})"
            case Compare(tag, op, value):
                pred = f"{_column(tag, qualifier)} {_SQL_OPS[op]} {self.literal(value)}"
                return f"COALESCE({pred}, FALSE)"
            case InList(tag, values, negated):
                items = ", ".join(self.literal(v) for v in values)
                pred = f"COALESCE({_column(tag, qualifier)} IN ({items}), FALSE)"
                return f"(NOT {pred})" if negated else pred
            case Between(tag, low, high):
                bounds = f"{self.literal(low)} AND {self.literal(high)}"
                return f"COALESCE({_column(tag, qualifier)} BETWEEN {bounds}, FALSE)"
            case IsNull(tag, negated):
                return f"({_column(tag, qualifier)} IS {'NOT ' if negated else ''}NULL)"
            case InStores(tag, inner):
                where = self.render(inner, _STORES_ALIAS)
                select = (
                    f"SELECT {_STORES_ALIAS}.{self.key} FROM {self.table} AS {_STORES_ALIAS} "
                    f"WHERE {where}"
                )
                return f"COALESCE({_column(tag, qualifier)} IN ({select}), FALSE)"
            case Bought():
                since = self.literal(DaysAgo(expr.days))
                return f"COALESCE({_column(expr.tag, qualifier)} >= {since}, FALSE)"
        raise TypeError(f"not an expression: {expr!r}")

    def literal(self, value: Value) -> str:
        problem = value_problem(value)
        if problem:
            raise ExpressionError("audience.invalid_value", problem)
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        if isinstance(value, DaysAgo):
            value = self.as_of - dt.timedelta(days=value.days)
        return f"DATE '{value.isoformat()}'"
