"""The SQL rendering: two-valued leaves, quoting that user text cannot escape, validated names."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from tests.unit.audience.strategies import strings

from newretail.audience.errors import ExpressionError
from newretail.audience.expression import Bought, Compare, InList, InStores
from newretail.audience.parser import parse
from newretail.audience.sql import to_sql

AS_OF = dt.date(2026, 5, 1)


def test_rendering() -> None:
    expr = parse(
        "lifecycle = 'lapsing' AND orders_90d >= 3 AND NOT sms_opt_out AND x != 1 "
        "AND home_store IN STORES(city = 'Shanghai') AND BOUGHT(line = 'latte', days = 30) "
        "AND last_order BETWEEN DAYS_AGO(1) AND DATE '2026-05-01' AND y NOT IN (1, 2) "
        "AND z IS NULL"
    )
    assert to_sql(expr, as_of=AS_OF) == (
        "(COALESCE(\"lifecycle\" = 'lapsing', FALSE)"
        ' AND COALESCE("orders_90d" >= 3, FALSE)'
        ' AND (NOT COALESCE("sms_opt_out" = TRUE, FALSE))'
        ' AND COALESCE("x" <> 1, FALSE)'
        ' AND COALESCE("home_store" IN (SELECT "audience_stores"."store_id"'
        ' FROM "store_tags" AS "audience_stores"'
        ' WHERE COALESCE("audience_stores"."city" = \'Shanghai\', FALSE)), FALSE)'
        " AND COALESCE(\"last_bought_line_latte\" >= DATE '2026-04-01', FALSE)"
        " AND COALESCE(\"last_order\" BETWEEN DATE '2026-04-30' AND DATE '2026-05-01', FALSE)"
        ' AND (NOT COALESCE("y" IN (1, 2), FALSE))'
        ' AND ("z" IS NULL))'
    )


def test_store_table_and_key_are_quoted_and_validated() -> None:
    sql = to_sql(
        InStores("h", Compare("c", "=", True)),
        as_of=AS_OF,
        store_table="lake.store_tags",
        store_key="key",
    )
    assert 'FROM "lake"."store_tags" AS "audience_stores"' in sql
    assert 'SELECT "audience_stores"."key"' in sql
    with pytest.raises(ValueError, match="identifier"):
        to_sql(parse("h IN STORES(c)"), as_of=AS_OF, store_table='x"; DROP TABLE y; --')
    with pytest.raises(ValueError, match="identifier"):
        to_sql(parse("h IN STORES(c)"), as_of=AS_OF, store_key="a b")


def test_tag_ids_that_are_not_identifiers_are_refused() -> None:
    with pytest.raises(ExpressionError):
        to_sql(Compare('x" OR 1=1 --', "=", 1), as_of=AS_OF)
    with pytest.raises(ExpressionError):
        to_sql(Bought("category", "x' OR 1=1", 3), as_of=AS_OF)


_DUCKDB = duckdb.connect()


@settings(max_examples=150, deadline=None)
@given(strings)
def test_any_string_round_trips_through_duckdb(text: str) -> None:
    """User text is a literal: the row holding exactly that text matches, and nothing escapes."""
    where = to_sql(InList("name", (text,)), as_of=AS_OF)
    rows = _DUCKDB.execute(
        "SELECT person_id FROM (VALUES ('a', $1), ('b', $1 || 'x'), ('c', NULL)) "
        f"AS person_tags(person_id, name) WHERE {where}",
        [text],
    ).fetchall()
    assert rows == [("a",)]


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_unstorable_strings_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        to_sql(Compare("x", "=", text), as_of=AS_OF)
    assert caught.value.code == "audience.invalid_value"


def test_out_of_range_integers_are_refused_even_when_huge() -> None:
    for value in (2**63, -(2**63) - 1, 10**5000):
        with pytest.raises(ExpressionError) as caught:
            to_sql(Compare("x", "=", value), as_of=AS_OF)
        assert caught.value.code == "audience.invalid_value"
