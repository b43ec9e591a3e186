"""Expression → the dense ids it selects, using only the ``TagBitmaps`` questions an index answers.

Semantics are SQL's two-valued reading (the same as ``sql.to_sql``): a null value satisfies no
comparison, and NOT (also ``NOT IN`` and ``IS NULL``) takes the complement within the universe, so
it includes persons whose value is null. Every bitmap the index returns is fresh, so results are
combined in place instead of copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyroaring import BitMap

from newretail.audience.errors import ExpressionError
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
from newretail.tags.lookup import Scalar, TagBitmaps


def evaluate(expr: Expr, persons: TagBitmaps, *, stores: TagBitmaps | None = None) -> BitMap:
    """The dense ids of ``persons`` the (checked) expression selects.

    ``stores`` answers ``IN STORES(...)``; ``DAYS_AGO`` and ``BOUGHT`` count back from the
    ``as_of`` of the bitmaps they are evaluated on.
    """
    return _Evaluation(persons, stores).run(expr)


class _Evaluation:
    def __init__(self, bitmaps: TagBitmaps, stores: TagBitmaps | None) -> None:
        self.bitmaps = bitmaps
        self.stores = stores

    def run(self, expr: Expr) -> BitMap:
        b = self.bitmaps
        match expr:
            case And(operands):
                return self.conjunction(operands)
            case Or(operands):
                result = self.run(operands[0])
                for operand in operands[1:]:
                    result |= self.run(operand)
                return result
            case Compare(tag, op, value):
                return b.compare(tag, op, self.scalar(value))
            case InList(tag, values, False):
                return b.one_of(tag, [self.scalar(v) for v in values])
            case Between(tag, low, high):
                return b.between(tag, self.scalar(low), self.scalar(high))
            case IsNull(tag, True):
                return b.present(tag)
            case InStores(tag, inner):
                if self.stores is None:
                    raise ExpressionError(
                        "audience.not_allowed", "IN STORES(...) needs the stores' tag index"
                    )
                selected = _Evaluation(self.stores, None).run(inner)
                return b.one_of(tag, self.stores.keys(selected))
            case Bought():
                return b.compare(expr.tag, ">=", b.as_of - dt.timedelta(days=expr.days))
        # Not, NOT IN, IS NULL: the universe minus what they exclude.
        excluded = self.complement(expr)
        assert excluded is not None
        result = b.universe()
        result -= excluded()
        return result

    def complement(self, expr: Expr) -> Callable[[], BitMap] | None:
        """For an expression that is ``universe - X``, a way to compute X; else None."""
        match expr:
            case Not(operand):
                return lambda: self.run(operand)
            case InList(tag, values, True):
                return lambda: self.bitmaps.one_of(tag, [self.scalar(v) for v in values])
            case IsNull(tag, False):
                return lambda: self.bitmaps.present(tag)
        return None

    def conjunction(self, operands: tuple[Expr, ...]) -> BitMap:
        """Intersect the positive operands (leaves first), then subtract the negated ones, so a
        NOT never materialises its complement and an empty intermediate stops the work."""
        positives = sorted(
            (e for e in operands if self.complement(e) is None),
            key=lambda e: isinstance(e, And | Or | InStores),
        )
        negatives = [c for e in operands if (c := self.complement(e)) is not None]
        result = self.run(positives[0]) if positives else self.bitmaps.universe()
        for operand in positives[1:]:
            if not result:
                return result
            result &= self.run(operand)
        for excluded in negatives:
            if not result:
                return result
            result -= excluded()
        return result

    def scalar(self, value: Value) -> Scalar:
        if isinstance(value, DaysAgo):
            return self.bitmaps.as_of - dt.timedelta(days=value.days)
        return value
