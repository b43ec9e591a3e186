"""The audience expression tree and its JSON form.

The text form (``parser.parse``, ``printer.to_text``) and this JSON form describe the same tree::

    lifecycle = 'lapsing' AND orders_90d >= 3 AND NOT sms_opt_out

    {"and": [{"tag": "lifecycle", "op": "=", "value": "lapsing"},
             {"tag": "orders_90d", "op": ">=", "value": 3},
             {"not": {"tag": "sms_opt_out", "op": "=", "value": true}}]}

JSON form (a public contract, version 1). Every object has exactly the keys shown; ``ID`` is a tag
id ``[a-z_][a-z0-9_]*``::

    expression := {"and": [expression, expression, ...]}      two or more operands
                | {"or": [expression, expression, ...]}       two or more operands
                | {"not": expression}
                | {"tag": ID, "op": OP, "value": value}       OP: = != < <= > >=
                | {"tag": ID, "in": [value, ...]}             one or more values
                | {"tag": ID, "not_in": [value, ...]}         nulls are selected (two-valued NOT)
                | {"tag": ID, "between": [value, value]}      inclusive
                | {"tag": ID, "is_null": true}                false means IS NOT NULL
                | {"tag": ID, "in_stores": expression}        inner expression over store tags
                | {"bought": {"category": STRING, "days": N}} or {"line": STRING, "days": N}
    value      := STRING | INTEGER | true | false
                | {"date": "YYYY-MM-DD"}
                | {"days_ago": N}                             the snapshot's as_of minus N days

A bare bool tag in text (``NOT sms_opt_out``) is ``{"tag": ..., "op": "=", "value": true}``.
Nesting (and/or/not/in_stores) is at most 32 deep. Integers are 64-bit; ``days_ago`` is 0..36600 and
``bought`` days 1..36600.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

from newretail.audience.errors import ExpressionError, Site
from newretail.tags.lookup import Comparison

MAX_DEPTH = 32
MAX_DAYS = 36600
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
TAG_ID = re.compile(r"[a-z_][a-z0-9_]*")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
OPS: tuple[Comparison, ...] = get_args(Comparison)

BoughtKind = Literal["category", "line"]
BOUGHT_KINDS: tuple[BoughtKind, ...] = ("category", "line")


@dataclass(frozen=True)
class DaysAgo:
    """A date relative to the snapshot: its ``as_of`` minus ``days`` days."""

    days: int


Value: TypeAlias = bool | int | str | dt.date | DaysAgo


@dataclass(frozen=True)
class Sites:
    """Where a leaf's parts were written, for error messages; never part of equality.

    ``subject`` is the tag id (a ``BOUGHT``'s category or line); ``values`` its values in order
    (a ``BOUGHT``'s days).
    """

    subject: Site
    values: tuple[Site, ...] = ()


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Compare:
    tag: str
    op: Comparison
    value: Value
    sites: Sites | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class InList:
    """``tag IN (...)``, or with ``negated`` ``tag NOT IN (...)`` (which selects nulls too)."""

    tag: str
    values: tuple[Value, ...]
    negated: bool = False
    sites: Sites | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Between:
    tag: str
    low: Value
    high: Value
    sites: Sites | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IsNull:
    """``tag IS NULL``, or with ``negated`` ``tag IS NOT NULL``."""

    tag: str
    negated: bool = False
    sites: Sites | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class InStores:
    """``tag IN STORES(stores)``: the person enum tag takes the id of a store ``stores`` selects."""

    tag: str
    stores: Expr
    sites: Sites | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Bought:
    """Bought in the ``kind`` (category or product line) ``value`` in the last ``days`` days."""

    kind: BoughtKind
    value: str
    days: int
    sites: Sites | None = field(default=None, compare=False, repr=False)

    @property
    def tag(self) -> str:
        """The date tag it reads: the last day the person bought in that category or line."""
        return f"last_bought_{self.kind}_{self.value}"


Expr: TypeAlias = And | Or | Not | Compare | InList | Between | IsNull | InStores | Bought
Leaf: TypeAlias = Compare | InList | Between | IsNull | InStores | Bought


def value_problem(value: object) -> str | None:
    """Why a literal is out of range, or None; shared by the parser, the JSON reader and check."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        shown = value if value.bit_length() < 256 else "the integer"  # str() of huge ints raises
        return f"{shown} does not fit in a 64-bit integer"
    if isinstance(value, str) and not _storable(value):
        return "a string may not hold NUL or unpaired surrogate characters"
    if isinstance(value, DaysAgo) and not 0 <= value.days <= MAX_DAYS:
        return f"DAYS_AGO takes 0 to {MAX_DAYS} days, not {value.days}"
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def days_problem(days: int) -> str | None:
    if not 1 <= days <= MAX_DAYS:
        return f"BOUGHT days must be 1 to {MAX_DAYS}, not {days}"
    return None


# --- to JSON ----------------------------------------------------------------------------------


def to_json(expr: Expr) -> dict[str, Any]:
    """The expression as plain JSON data (the public contract above).

    >>> to_json(Compare("orders_90d", ">=", 3))
    {'tag': 'orders_90d', 'op': '>=', 'value': 3}
    """
    match expr:
        case And(operands):
            return {"and": [to_json(e) for e in operands]}
        case Or(operands):
            return {"or": [to_json(e) for e in operands]}
        case Not(operand):
            return {"not": to_json(operand)}
        case Compare(tag, op, value):
            return {"tag": tag, "op": op, "value": _value_json(value)}
        case InList(tag, values, negated):
            return {"tag": tag, "not_in" if negated else "in": [_value_json(v) for v in values]}
        case Between(tag, low, high):
            return {"tag": tag, "between": [_value_json(low), _value_json(high)]}
        case IsNull(tag, negated):
            return {"tag": tag, "is_null": not negated}
        case InStores(tag, stores):
            return {"tag": tag, "in_stores": to_json(stores)}
        case Bought(kind, value, days):
            return {"bought": {kind: value, "days": days}}
    raise TypeError(f"not an expression: {expr!r}")


def _value_json(value: Value) -> Any:
    if isinstance(value, DaysAgo):
        return {"days_ago": value.days}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


# --- from JSON --------------------------------------------------------------------------------

_LEAF_KEYS = ("op", "in", "not_in", "between", "is_null", "in_stores")


def from_json(doc: object) -> Expr:
    """Read the JSON form, validating its shape; errors carry the JSON path in ``field``.

    >>> from_json({"not": {"tag": "sms_opt_out", "op": "=", "value": True}})
    Not(operand=Compare(tag='sms_opt_out', op='=', value=True))
    """
    return _node(doc, "$", 1)


def _fail(path: str, message: str, *, hints: tuple[str, ...] = ()) -> ExpressionError:
    return ExpressionError("audience.invalid_json", message, site=Site.in_json(path), hints=hints)


def _node(doc: object, path: str, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise ExpressionError(
            "audience.too_deep",
            f"the expression nests deeper than {MAX_DEPTH} levels",
            site=Site.in_json(path),
        )
    if not isinstance(doc, dict):
        raise _fail(path, "an expression is a JSON object")
    for name in ("and", "or", "not", "bought"):
        if name in doc:
            _only_keys(doc, path, (name,))
            return _compound(name, doc[name], f"{path}.{name}", depth)
    if "tag" not in doc:
        raise _fail(
            path,
            "an expression object needs one of the keys and, or, not, tag, bought",
            hints=("and", "or", "not", "tag", "bought"),
        )
    operators = [k for k in _LEAF_KEYS if k in doc]
    if len(operators) != 1:
        raise _fail(
            path,
            "a tag condition needs exactly one of op, in, not_in, between, is_null, in_stores",
            hints=_LEAF_KEYS,
        )
    operator = operators[0]
    _only_keys(doc, path, ("tag", "op", "value") if operator == "op" else ("tag", operator))
    tag = _tag_id(doc["tag"], f"{path}.tag")
    return _leaf(tag, operator, doc, path, depth)


def _compound(name: str, arg: object, path: str, depth: int) -> Expr:
    if name == "not":
        return Not(_node(arg, path, depth + 1))
    if name == "bought":
        return _bought(arg, path)
    if not isinstance(arg, list) or len(arg) < 2:
        raise _fail(path, f"{name} takes a list of two or more expressions")
    operands = tuple(_node(e, f"{path}[{i}]", depth + 1) for i, e in enumerate(arg))
    return And(operands) if name == "and" else Or(operands)


def _leaf(tag: str, operator: str, doc: dict[Any, Any], path: str, depth: int) -> Expr:
    subject = Site.in_json(f"{path}.tag")
    arg = doc[operator]
    where = f"{path}.{operator}"
    if operator == "op":
        if not isinstance(arg, str) or arg not in OPS:
            raise _fail(where, "op is one of = != < <= > >=", hints=OPS)
        if "value" not in doc:
            raise _fail(path, "a comparison needs a value")
        value = _value(doc["value"], f"{path}.value")
        sites = Sites(subject, (Site.in_json(f"{path}.value"),))
        return Compare(tag, arg, value, sites=sites)
    if operator in ("in", "not_in", "between"):
        if not isinstance(arg, list) or not arg:
            raise _fail(where, f"{operator} takes a non-empty list of values")
        values = tuple(_value(v, f"{where}[{i}]") for i, v in enumerate(arg))
        sites = Sites(subject, tuple(Site.in_json(f"{where}[{i}]") for i in range(len(arg))))
        if operator != "between":
            return InList(tag, values, negated=operator == "not_in", sites=sites)
        if len(values) != 2:
            raise _fail(where, "between takes [low, high]")
        return Between(tag, values[0], values[1], sites=sites)
    if operator == "is_null":
        if not isinstance(arg, bool):
            raise _fail(where, "is_null is true or false")
        return IsNull(tag, negated=not arg, sites=Sites(subject))
    return InStores(tag, _node(arg, where, depth + 1), sites=Sites(subject))


def _bought(arg: object, path: str) -> Bought:
    if not isinstance(arg, dict):
        raise _fail(path, 'bought is an object like {"category": "coffee", "days": 30}')
    kinds = [k for k in BOUGHT_KINDS if k in arg]
    if len(kinds) != 1 or "days" not in arg:
        raise _fail(path, "bought needs days and exactly one of category, line")
    kind = kinds[0]
    _only_keys(arg, path, (kind, "days"))
    value, days = arg[kind], arg["days"]
    if not isinstance(value, str):
        raise _fail(f"{path}.{kind}", f"{kind} is a string")
    problem = value_problem(value)
    if problem:
        raise ExpressionError(
            "audience.invalid_value", problem, site=Site.in_json(f"{path}.{kind}")
        )
    if not isinstance(days, int) or isinstance(days, bool):
        raise _fail(f"{path}.days", "days is an integer")
    problem = days_problem(days)
    if problem:
        raise ExpressionError("audience.invalid_value", problem, site=Site.in_json(f"{path}.days"))
    sites = Sites(Site.in_json(f"{path}.{kind}"), (Site.in_json(f"{path}.days"),))
    return Bought(kind, value, days, sites=sites)


def _only_keys(doc: dict[Any, Any], path: str, allowed: tuple[str, ...]) -> None:
    for key in doc:
        if key not in allowed:
            raise _fail(f"{path}.{key}", f"unexpected key {key!r}", hints=allowed)


def _tag_id(tag: object, path: str) -> str:
    if not isinstance(tag, str) or not TAG_ID.fullmatch(tag):
        raise _fail(path, "a tag id is a string of lowercase letters, digits and _")
    return tag


def _value(doc: object, path: str) -> Value:
    value: Value
    if isinstance(doc, bool | str | int):
        value = doc
    elif isinstance(doc, dict) and set(doc) == {"date"}:
        text = doc["date"]
        if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
            raise _fail(f"{path}.date", "a date is a string YYYY-MM-DD")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise ExpressionError(
                "audience.invalid_value",
                f"{text!r} is not a calendar date",
                site=Site.in_json(f"{path}.date"),
            ) from None
    elif isinstance(doc, dict) and set(doc) == {"days_ago"}:
        days = doc["days_ago"]
        if not isinstance(days, int) or isinstance(days, bool):
            raise _fail(f"{path}.days_ago", "days_ago is an integer")
        value = DaysAgo(days)
    else:
        raise _fail(
            path,
            'a value is a string, an integer, true, false, {"date": "YYYY-MM-DD"} or {"days_ago": N}',
        )
    problem = value_problem(value)
    if problem:
        raise ExpressionError("audience.invalid_value", problem, site=Site.in_json(path))
    return value
