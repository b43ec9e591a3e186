"""Type-checking against a vocabulary: unknown tags with near names, values the type refuses,
enum values outside the domain, store selection and BOUGHT."""

from __future__ import annotations

import pytest
from tests.unit.audience.strategies import PERSONS, STORES

from newretail.audience.check import check
from newretail.audience.errors import ExpressionError
from newretail.audience.expression import Compare, Expr, InStores, from_json
from newretail.audience.parser import parse


def ok(text: str) -> None:
    check(parse(text), PERSONS, stores=STORES)


def bad(expr: str | Expr, *, entity: str = "person") -> ExpressionError:
    tree = parse(expr) if isinstance(expr, str) else expr
    with pytest.raises(ExpressionError) as caught:
        if entity == "store":
            check(tree, STORES, entity="store")
        else:
            check(tree, PERSONS, stores=STORES)
    return caught.value


@pytest.mark.parametrize(
    "text",
    [
        "lifecycle = 'lapsing' AND orders_90d >= 3 AND NOT sms_opt_out",
        "home_store IN STORES(city = 'Shanghai' AND format = 'pickup')",
        "home_store IN ('s1', 'anything') AND lifecycle NOT IN ('new', 'lost')",
        "last_order BETWEEN DAYS_AGO(30) AND DATE '2026-05-01' OR last_order IS NULL",
        "orders_90d BETWEEN -1 AND 3 AND vip != false",
        "BOUGHT(category = 'coffee', days = 30) OR BOUGHT(line = 'latte', days = 7)",
        "home_store IN STORES(opened < DAYS_AGO(365) AND open_late AND area_sqm > 80)",
    ],
)
def test_valid_expressions(text: str) -> None:
    ok(text)


def test_unknown_tag_points_at_it_and_hints_the_nearest() -> None:
    e = bad("vip AND orders_9d >= 3")
    assert (e.code, e.offset, e.position) == ("audience.unknown_tag", 8, "line 1, column 9")
    assert e.hints[0] == "orders_90d"
    assert "did you mean orders_90d" in e.message


def test_unknown_tag_from_json_names_the_path() -> None:
    doc = {"and": [{"tag": "vip", "op": "=", "value": True}, {"tag": "viip", "is_null": True}]}
    e = bad(from_json(doc))
    assert (e.code, e.field, e.position, e.hints) == (
        "audience.unknown_tag",
        "$.and[1].tag",
        "$.and[1].tag",
        ["vip"],
    )


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("orders_90d = '3'", 13),  # a string compared to a number tag
        ("lifecycle < 'new'", 0),  # < on an enum
        ("vip >= true", 0),
        ("lifecycle", 0),  # a bare tag that is not a bool
        ("orders_90d", 0),
        ("vip = 1", 6),
        ("last_order > 3", 13),
        ("lifecycle IN ('new', 3)", 21),
        ("lifecycle BETWEEN 'a' AND 'b'", 0),
        ("orders_90d BETWEEN 1 AND DATE '2026-01-01'", 25),
        ("orders_90d IN STORES(city = 'Shanghai')", 0),
    ],
)
def test_type_mismatches(text: str, offset: int) -> None:
    e = bad(text)
    assert (e.code, e.offset) == ("audience.type_mismatch", offset)


def test_bare_non_bool_tag_message() -> None:
    assert "'lifecycle' alone needs a bool tag" in bad("lifecycle").message


def test_enum_value_outside_the_domain_hints_the_allowed_values() -> None:
    e = bad("vip AND lifecycle IN ('new', 'lapsed')")
    assert (e.code, e.offset) == ("audience.unknown_value", 29)
    assert e.hints == ["new", "active", "lapsing", "lost"]


def test_store_expression_is_checked_against_the_store_vocabulary() -> None:
    e = bad("home_store IN STORES(city = 'Shenzhen')")
    assert (e.code, e.offset, e.hints) == (
        "audience.unknown_value",
        28,
        ["Shanghai", "Beijing", "Hangzhou"],
    )
    e = bad("home_store IN STORES(citty = 'Shanghai')")
    assert (e.code, e.offset, e.hints[0]) == ("audience.unknown_tag", 21, "city")
    assert bad("home_store IN STORES(vip)").code == "audience.wrong_entity"
    assert bad("city = 'Shanghai'").code == "audience.wrong_entity"


def test_store_selection_needs_store_tags_and_a_person_expression() -> None:
    with pytest.raises(ExpressionError) as caught:
        check(parse("home_store IN STORES(open_late)"), PERSONS)
    assert caught.value.code == "audience.not_allowed"
    nested = InStores("home_store", Compare("open_late", "=", True))
    assert bad(nested, entity="store").code in ("audience.not_allowed", "audience.unknown_tag")
    assert bad("BOUGHT(category = 'coffee', days = 3)", entity="store").code == (
        "audience.not_allowed"
    )


def test_a_whole_store_expression() -> None:
    check(parse("city IN ('Shanghai', 'Beijing') AND NOT open_late"), STORES, entity="store")
    assert bad("vip", entity="store").code == "audience.unknown_tag"


def test_bought_unknown_category_lists_the_known_ones() -> None:
    e = bad("vip OR BOUGHT(category = 'cofee', days = 30)")
    assert (e.code, e.offset) == ("audience.unknown_value", 25)
    assert e.hints == ["coffee", "tea"]
    e = bad("BOUGHT(line = 'mocha', days = 30)")
    assert e.hints == ["latte"]
    assert "known: latte" in e.message
