"""Small Ibis helpers the person feature modules share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

Aggregates = dict[str, ir.Scalar]


def since(date: ir.DateValue, as_of: dt.date, days: int) -> ir.BooleanValue:
    """``date`` lies in the window of ``days`` days ending on ``as_of``: (as_of - days, as_of].

    Facts after ``as_of`` are filtered out before aggregation, so only the lower bound is tested.
    """
    return date > ibis.literal(as_of - dt.timedelta(days=days))


def up_to(table: ir.Table, as_of: dt.date, column: str = "business_date") -> ir.Table:
    """The rows of ``table`` on or before ``as_of`` (facts after it are ignored)."""
    return table.filter(table[column] <= ibis.literal(as_of))


def person_of(table: ir.Table, links: ir.Table, *, source: str, record: str) -> ir.Table:
    """``table`` with the ``person_id`` its identity record (``source``, ``record``) links to;
    rows of unlinked or anonymous records drop out."""
    keyed = links.select(
        link_source=links.source, link_record=links.source_record_id, person_id=links.person_id
    )
    joined = table.join(
        keyed, [table[source] == keyed.link_source, table[record] == keyed.link_record]
    )
    return joined.drop("link_source", "link_record")


def attach(
    base: ir.Table,
    part: ir.Table,
    *,
    zero: bool = True,
    nullable: Sequence[str] = (),
    key: str = "person_id",
) -> ir.Table:
    """``base`` with ``part``'s columns joined on ``key``; a person without rows in ``part`` gets 0 in
    its integer columns (counts and sums) when ``zero``, except in ``nullable`` ones (a maximum, a
    last value), and null elsewhere."""
    columns = [c for c in part.columns if c != key]
    joined = base.left_join(part, base[key] == part[key])
    values: dict[str, ir.Value] = {}
    for name in columns:
        value = joined[name]
        if zero and name not in nullable and value.type().is_integer():
            value = value.fill_null(0)
        values[name] = value
    return joined.select(*[joined[c] for c in base.columns], **values)


def count_if(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """Rows where ``condition`` holds (a sum of 0/1: DuckDB runs many of these in one group-by
    about twice as fast as ``COUNT(*) FILTER (WHERE ...)``, and every engine agrees on it)."""
    return condition.ifelse(1, 0).sum()


def sum_if(condition: ir.BooleanValue, value: ir.NumericValue) -> ir.NumericScalar:
    """The sum of ``value`` where ``condition`` holds, 0 where it never does."""
    return condition.ifelse(value, 0).sum()


def max_if(condition: ir.BooleanValue, value: ir.Value) -> ir.Scalar:
    """The largest ``value`` where ``condition`` holds, null where it never does."""
    return condition.ifelse(value, ibis.null(value.type())).max()


def min_if(condition: ir.BooleanValue, value: ir.Value) -> ir.Scalar:
    """The smallest ``value`` where ``condition`` holds, null where it never does."""
    return condition.ifelse(value, ibis.null(value.type())).min()


def aggregate(
    table: ir.Table, measures: Mapping[str, ir.Scalar], key: str = "person_id"
) -> ir.Table:
    return table.group_by(key).aggregate(**measures)
