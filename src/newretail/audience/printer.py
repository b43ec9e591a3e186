"""Expression tree → canonical text: keywords upper case, one space around operators, parentheses
only where the tree needs them. ``parse(to_text(e)) == e`` for every tree."""

from __future__ import annotations

import datetime as dt

from newretail.audience.expression import (
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
)


def to_text(expr: Expr) -> str:
    """The canonical text of an expression.

    >>> to_text(And((Compare("orders_90d", ">=", 3), Not(Compare("sms_opt_out", "=", True)))))
    'orders_90d >= 3 AND NOT sms_opt_out'
    """
    match expr:
        case And(operands):
            # An AND or OR operand of an AND is parenthesised: the parser flattens a AND b AND c.
            return " AND ".join(_wrap(e, (And, Or)) for e in operands)
        case Or(operands):
            return " OR ".join(_wrap(e, (Or,)) for e in operands)
        case Not(operand):
            return "NOT " + _wrap(operand, (And, Or))
        case Compare(tag, "=", True):
            return tag
        case Compare(tag, op, value):
            return f"{tag} {op} {literal(value)}"
        case InList(tag, values, negated):
            keyword = "NOT IN" if negated else "IN"
            return f"{tag} {keyword} ({', '.join(literal(v) for v in values)})"
        case Between(tag, low, high):
            return f"{tag} BETWEEN {literal(low)} AND {literal(high)}"
        case IsNull(tag, negated):
            return f"{tag} IS NOT NULL" if negated else f"{tag} IS NULL"
        case InStores(tag, stores):
            return f"{tag} IN STORES({to_text(stores)})"
        case Bought(kind, value, days):
            return f"BOUGHT({kind} = {literal(value)}, days = {days})"
    raise TypeError(f"not an expression: {expr!r}")


def _wrap(expr: Expr, needs_parens: tuple[type, ...]) -> str:
    text = to_text(expr)
    return f"({text})" if isinstance(expr, needs_parens) else text


def literal(value: Value) -> str:
    """A value as the text form writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, DaysAgo):
        return f"DAYS_AGO({value.days})"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"not a value: {value!r}")
