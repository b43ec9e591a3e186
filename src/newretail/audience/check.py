"""Type-check an expression against the tags that exist: every error a user can make before
evaluation, with the position it was written at and hints (near tag ids, allowed values)."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Sequence
from typing import NoReturn, Protocol

from newretail.audience.errors import ErrorCode, ExpressionError, Site
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
    Leaf,
    Not,
    Or,
    Value,
    days_problem,
    value_problem,
)
from newretail.audience.printer import literal
from newretail.tags.spec import Entity, TagSpec, ValueType


class Vocabulary(Protocol):
    """The tags an expression may name (one entity's, or both: ``check`` looks at ``spec.entity``)."""

    def tag(self, tag_id: str) -> TagSpec | None: ...

    def tag_ids(self) -> Sequence[str]: ...


class SpecVocabulary:
    """A vocabulary over a fixed list of tag specs.

    >>> from newretail.tags.spec import TagSpec
    >>> spec = TagSpec("vip", "贵宾", "VIP", "value", "person", "bool", "", "", "")
    >>> SpecVocabulary([spec]).tag_ids()
    ['vip']
    """

    def __init__(self, specs: Iterable[TagSpec]) -> None:
        self._specs = {s.id: s for s in specs}

    def tag(self, tag_id: str) -> TagSpec | None:
        return self._specs.get(tag_id)

    def tag_ids(self) -> list[str]:
        return list(self._specs)


_ORDERED: frozenset[ValueType] = frozenset({"number", "date"})
_TYPE_NAMES: dict[ValueType, str] = {
    "bool": "true or false",
    "enum": "a 'string'",
    "number": "an integer",
    "date": "a DATE '...' or DAYS_AGO(n)",
}


def check(
    expr: Expr,
    vocabulary: Vocabulary,
    *,
    entity: Entity = "person",
    stores: Vocabulary | None = None,
) -> None:
    """Raise ``ExpressionError`` unless every tag exists for ``entity`` and every value fits it.

    ``stores`` is the store vocabulary ``IN STORES(...)`` is checked against; without it store
    selection is refused. Nothing is rewritten.

    >>> from newretail.audience.parser import parse
    >>> from newretail.tags.spec import TagSpec
    >>> vip = TagSpec("vip", "贵宾", "VIP", "value", "person", "bool", "", "", "")
    >>> check(parse("NOT vip"), SpecVocabulary([vip]))
    >>> check(parse("NOT viip"), SpecVocabulary([vip]))
    Traceback (most recent call last):
    newretail.audience.errors.ExpressionError: unknown person tag 'viip'; did you mean vip? (line 1, column 5)
    """
    _Checker(vocabulary, entity, stores, other=stores).expr(expr)


def _error(code: ErrorCode, message: str, site: Site | None, hints: Sequence[str] = ()) -> NoReturn:
    raise ExpressionError(code, message, site=site, hints=hints)


def _subject(leaf: Leaf) -> Site | None:
    return leaf.sites.subject if leaf.sites else None


def _value_site(leaf: Leaf, i: int) -> Site | None:
    if leaf.sites and i < len(leaf.sites.values):
        return leaf.sites.values[i]
    return _subject(leaf)


def _ids(vocabulary: Vocabulary, entity: Entity) -> list[str]:
    return [t for t in vocabulary.tag_ids() if (s := vocabulary.tag(t)) and s.entity == entity]


class _Checker:
    """``other`` is the other entity's vocabulary, to tell a misplaced tag from an unknown one."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        entity: Entity,
        stores: Vocabulary | None,
        *,
        other: Vocabulary | None,
    ) -> None:
        self.vocabulary = vocabulary
        self.entity = entity
        self.stores = stores
        self.other = other

    def expr(self, expr: Expr) -> None:
        match expr:
            case And(operands) | Or(operands):
                for operand in operands:
                    self.expr(operand)
            case Not(operand):
                self.expr(operand)
            case Bought():
                self.bought(expr)
            case _:
                self.leaf(expr)

    def spec(self, leaf: Leaf) -> TagSpec:
        tag, entity = leaf.tag, self.entity
        spec = self.vocabulary.tag(tag)
        if spec is None and self.other is not None:
            spec = self.other.tag(tag)
        if spec is None:
            near = difflib.get_close_matches(tag, _ids(self.vocabulary, entity), n=5)
            suffix = f"; did you mean {', '.join(near)}?" if near else ""
            _error(
                "audience.unknown_tag",
                f"unknown {entity} tag {tag!r}{suffix}",
                _subject(leaf),
                near,
            )
        if spec.entity != entity:
            where = "inside STORES(...)" if spec.entity == "store" else "in a person expression"
            _error(
                "audience.wrong_entity",
                f"{tag!r} is a {spec.entity} tag; use it {where}",
                _subject(leaf),
            )
        return spec

    def leaf(self, leaf: Leaf) -> None:
        spec = self.spec(leaf)
        match leaf:
            case Compare(_, op, value):
                if op not in ("=", "!=") and spec.value_type not in _ORDERED:
                    _error(
                        "audience.type_mismatch",
                        f"{op} needs a number or date tag; {spec.id!r} is a {spec.value_type} tag",
                        _subject(leaf),
                    )
                if value is True and op == "=" and spec.value_type != "bool":
                    _needs_comparison(leaf, spec)
                _check_value(leaf, spec, value, 0)
            case InList(_, values):
                for i, value in enumerate(values):
                    _check_value(leaf, spec, value, i)
            case Between(_, low, high):
                if spec.value_type not in _ORDERED:
                    _error(
                        "audience.type_mismatch",
                        f"BETWEEN needs a number or date tag; {spec.id!r} is a {spec.value_type} tag",
                        _subject(leaf),
                    )
                _check_value(leaf, spec, low, 0)
                _check_value(leaf, spec, high, 1)
            case InStores(_, inner):
                if self.entity != "person" or self.stores is None:
                    _error(
                        "audience.not_allowed",
                        "IN STORES(...) is only allowed in a person expression with store tags",
                        _subject(leaf),
                    )
                if spec.value_type != "enum":
                    _error(
                        "audience.type_mismatch",
                        f"IN STORES needs an enum tag of store ids; {spec.id!r} is a {spec.value_type} tag",
                        _subject(leaf),
                    )
                _Checker(self.stores, "store", None, other=self.vocabulary).expr(inner)
            case IsNull():
                pass

    def bought(self, bought: Bought) -> None:
        subject = _subject(bought)
        if self.entity != "person":
            _error(
                "audience.not_allowed",
                "BOUGHT(...) is only allowed in a person expression",
                subject,
            )
        problem = days_problem(bought.days)
        if problem:
            _error("audience.invalid_value", problem, _value_site(bought, 0))
        spec = self.vocabulary.tag(bought.tag)
        if spec is None or spec.entity != "person":
            prefix = f"last_bought_{bought.kind}_"
            ids = _ids(self.vocabulary, "person")
            known = sorted(t[len(prefix) :] for t in ids if t.startswith(prefix))
            near = difflib.get_close_matches(bought.value, known, n=5)
            _error(
                "audience.unknown_value",
                f"unknown {bought.kind} {bought.value!r}; known: {', '.join(known) or 'none'}",
                subject,
                near + [k for k in known if k not in near],
            )
        if spec.value_type != "date":
            _error(
                "audience.type_mismatch",
                f"{spec.id!r} is a {spec.value_type} tag; BOUGHT needs a date tag",
                subject,
            )


def _needs_comparison(leaf: Leaf, spec: TagSpec) -> NoReturn:
    bare = leaf.sites is not None and not leaf.sites.values
    what = f"{spec.id!r} alone" if bare else f"{spec.id!r} = true"
    _error(
        "audience.type_mismatch",
        f"{what} needs a bool tag; {spec.id!r} is a {spec.value_type} tag: compare it to "
        f"{_TYPE_NAMES[spec.value_type]}",
        _subject(leaf),
    )


def _check_value(leaf: Leaf, spec: TagSpec, value: Value, i: int) -> None:
    site = _value_site(leaf, i)
    problem = value_problem(value)
    if problem:
        _error("audience.invalid_value", problem, site)
    if not _fits(spec.value_type, value):
        _error(
            "audience.type_mismatch",
            f"{spec.id!r} is a {spec.value_type} tag; {literal(value)} is not {_TYPE_NAMES[spec.value_type]}",
            site,
        )
    if spec.value_type == "enum" and spec.values and value not in spec.values:
        allowed = list(spec.values)
        _error(
            "audience.unknown_value",
            f"{literal(value)} is not a value of {spec.id!r}; it takes {', '.join(map(literal, allowed))}",
            site,
            allowed,
        )


def _fits(value_type: ValueType, value: Value) -> bool:
    if value_type == "bool":
        return isinstance(value, bool)
    if value_type == "number":
        return isinstance(value, int) and not isinstance(value, bool)
    if value_type == "enum":
        return isinstance(value, str)
    return isinstance(value, DaysAgo | dt.date)
