"""The JSON form: its shape, and errors that name the JSON path of the problem."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from newretail.audience.errors import ExpressionError
from newretail.audience.expression import (
    And,
    Between,
    Bought,
    Compare,
    DaysAgo,
    InList,
    InStores,
    IsNull,
    Not,
    Or,
    from_json,
    to_json,
)
from newretail.audience.parser import parse


def test_the_documented_shape() -> None:
    expr = parse(
        "lifecycle = 'lapsing' AND (orders_90d >= 3 OR NOT sms_opt_out) "
        "AND city NOT IN ('Beijing') AND last_order BETWEEN DAYS_AGO(30) AND DATE '2026-05-01' "
        "AND x IS NOT NULL AND home_store IN STORES(city IN ('Shanghai')) "
        "AND BOUGHT(category = 'coffee', days = 30)"
    )
    assert to_json(expr) == {
        "and": [
            {"tag": "lifecycle", "op": "=", "value": "lapsing"},
            {
                "or": [
                    {"tag": "orders_90d", "op": ">=", "value": 3},
                    {"not": {"tag": "sms_opt_out", "op": "=", "value": True}},
                ]
            },
            {"tag": "city", "not_in": ["Beijing"]},
            {"tag": "last_order", "between": [{"days_ago": 30}, {"date": "2026-05-01"}]},
            {"tag": "x", "is_null": False},
            {"tag": "home_store", "in_stores": {"tag": "city", "in": ["Shanghai"]}},
            {"bought": {"category": "coffee", "days": 30}},
        ]
    }


def test_reading_every_form() -> None:
    assert from_json(
        {"or": [{"tag": "a", "is_null": True}, {"not": {"tag": "b", "in": [1]}}]}
    ) == Or((IsNull("a"), Not(InList("b", (1,)))))
    assert from_json({"tag": "d", "op": "<", "value": {"date": "2026-01-31"}}) == Compare(
        "d", "<", dt.date(2026, 1, 31)
    )
    assert from_json({"tag": "d", "between": [{"days_ago": 0}, 5]}) == Between("d", DaysAgo(0), 5)
    assert from_json({"bought": {"line": "latte", "days": 7}}) == Bought("line", "latte", 7)
    assert from_json({"tag": "h", "in_stores": {"and": [{"tag": "s", "is_null": False}] * 2}}) == (
        InStores("h", And((IsNull("s", negated=True),) * 2))
    )


def bad(doc: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        from_json(doc)
    e = caught.value
    assert e.offset is None and e.field == e.position
    return e


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([], "$"),
        ({}, "$"),
        ({"and": [{"tag": "a", "is_null": True}]}, "$.and"),
        ({"and": [{"tag": "a", "is_null": True}, {"tag": "b"}]}, "$.and[1]"),
        ({"and": [{"tag": "a", "is_null": True}, 3]}, "$.and[1]"),
        ({"or": [{"tag": "a", "is_null": True}, {"tag": "B", "is_null": True}]}, "$.or[1].tag"),
        ({"not": {"tag": "a", "op": "~", "value": 1}}, "$.not.op"),
        ({"tag": "a", "op": "="}, "$"),
        ({"tag": "a", "op": "=", "value": 1.5}, "$.value"),
        ({"tag": "a", "op": "=", "value": None}, "$.value"),
        ({"tag": "a", "op": "=", "value": {"date": "May 1"}}, "$.value.date"),
        ({"tag": "a", "op": "=", "value": {"days_ago": "3"}}, "$.value.days_ago"),
        ({"tag": "a", "in": []}, "$.in"),
        ({"tag": "a", "in": [1, [2]]}, "$.in[1]"),
        ({"tag": "a", "between": [1]}, "$.between"),
        ({"tag": "a", "is_null": "yes"}, "$.is_null"),
        ({"tag": "a", "is_null": True, "extra": 1}, "$.extra"),
        ({"tag": "a", "in": [1], "not_in": [2]}, "$"),
        ({"and": [], "or": []}, "$.or"),
        ({"tag": "a", "in_stores": {"tag": "b"}}, "$.in_stores"),
        ({"bought": {"category": "coffee"}}, "$.bought"),
        ({"bought": {"category": "coffee", "line": "x", "days": 3}}, "$.bought"),
        ({"bought": {"category": 3, "days": 3}}, "$.bought.category"),
        ({"bought": {"category": "c", "days": True}}, "$.bought.days"),
        ({"bought": {"category": "c", "days": 3, "store": 1}}, "$.bought.store"),
    ],
)
def test_shape_errors_name_the_path(doc: Any, field: str) -> None:
    e = bad(doc)
    assert (e.code, e.field) == ("audience.invalid_json", field)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"tag": "a", "op": "=", "value": 2**63}, "$.value"),
        ({"tag": "a", "op": "=", "value": {"date": "2026-02-30"}}, "$.value.date"),
        ({"tag": "a", "in": [{"days_ago": -1}]}, "$.in[0]"),
        ({"bought": {"category": "c", "days": 0}}, "$.bought.days"),
    ],
)
def test_out_of_range_values(doc: Any, field: str) -> None:
    e = bad(doc)
    assert (e.code, e.field) == ("audience.invalid_value", field)


def test_unknown_key_hints_list_the_allowed_ones() -> None:
    assert bad({"tag": "a", "is_null": True, "x": 1}).hints == ["tag", "is_null"]


def test_nesting_deeper_than_32_is_refused() -> None:
    doc: Any = {"tag": "a", "is_null": True}
    for _ in range(31):
        doc = {"not": doc}
    assert from_json(doc) is not None
    deeper = {"not": doc}
    e = bad(deeper)
    assert e.code == "audience.too_deep"
    assert e.field == "$" + ".not" * 32
    for _ in range(10_000):
        deeper = {"not": deeper}
    assert bad(deeper).code == "audience.too_deep"


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_unstorable_strings_are_refused(text: str) -> None:
    assert bad({"tag": "a", "in": ["ok", text]}).field == "$.in[1]"
    assert bad({"bought": {"line": text, "days": 3}}).field == "$.bought.line"
