"""Text → tree: precedence, sugar, literals, and errors that point at the offending token."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
)
from newretail.audience.parser import parse
from newretail.audience.printer import to_text


def test_the_example_from_the_brief() -> None:
    text = (
        "lifecycle = 'lapsing' AND orders_90d >= 3 AND NOT sms_opt_out AND "
        "home_store IN STORES(city = 'Shanghai' AND format = 'pickup')"
    )
    assert parse(text) == And(
        (
            Compare("lifecycle", "=", "lapsing"),
            Compare("orders_90d", ">=", 3),
            Not(Compare("sms_opt_out", "=", True)),
            InStores(
                "home_store",
                And((Compare("city", "=", "Shanghai"), Compare("format", "=", "pickup"))),
            ),
        )
    )
    assert to_text(parse(text)) == text


def test_precedence_is_not_then_and_then_or() -> None:
    a, b, c = (Compare(t, "=", True) for t in "abc")
    assert parse("a OR b AND c") == Or((a, And((b, c))))
    assert parse("NOT a AND b") == And((Not(a), b))
    assert parse("NOT (a OR b) AND c") == And((Not(Or((a, b))), c))
    assert parse("(a OR b) AND c") == And((Or((a, b)), c))
    assert parse("a AND (b AND c)") == And((a, And((b, c))))
    assert parse("((a))") == a


def test_keywords_are_case_insensitive_and_tag_ids_are_not_keywords() -> None:
    assert parse("android and NOT oreo Or x iS nUlL") == Or(
        (
            And((Compare("android", "=", True), Not(Compare("oreo", "=", True)))),
            IsNull("x"),
        )
    )
    assert parse("vip = TRUE") == Compare("vip", "=", True)
    assert parse("d >= date '2026-05-01'") == Compare("d", ">=", dt.date(2026, 5, 1))


def test_every_condition_form() -> None:
    assert parse("n != -3") == Compare("n", "!=", -3)
    assert parse("c IN ('a', 'it''s')") == InList("c", ("a", "it's"))
    assert parse("c NOT IN ('a')") == InList("c", ("a",), negated=True)
    assert parse("d BETWEEN DAYS_AGO(30) AND DATE '2026-05-01'") == Between(
        "d", DaysAgo(30), dt.date(2026, 5, 1)
    )
    assert parse("x IS NOT NULL") == IsNull("x", negated=True)
    assert parse("BOUGHT(category = 'coffee', days = 30)") == Bought("category", "coffee", 30)
    assert parse("bought(days=7, line='latte')") == Bought("line", "latte", 7)
    assert parse("vip = false") == Compare("vip", "=", False)


def test_bare_tag_is_tag_equals_true_and_prints_bare() -> None:
    assert parse("sms_opt_out") == Compare("sms_opt_out", "=", True)
    assert to_text(Compare("sms_opt_out", "=", True)) == "sms_opt_out"
    assert to_text(Compare("n", "=", 1)) == "n = 1"  # 1 is not True here


def error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.http_status == 400
    return caught.value


@pytest.mark.parametrize(
    ("text", "offset", "column"),
    [
        ("vip AND", 7, 8),
        ("orders_90d >= 3 AND AND vip", 20, 21),
        ("orders_90d >= 3 @ vip", 16, 17),
        ("city = 'Shanghai", 7, 8),
        ("x IN ()", 6, 7),
        ("vip AND\n  x === 3", 13, 6),
    ],
)
def test_syntax_errors_point_at_the_offending_token(text: str, offset: int, column: int) -> None:
    e = error(text)
    assert e.code == "audience.syntax"
    assert e.offset == offset
    assert e.position is not None and e.position.endswith(f"column {column}")


def test_syntax_error_hints_are_the_expected_tokens() -> None:
    e = error("vip AND")
    assert e.hints == ["NOT", "BOUGHT", "a tag id", "("]
    assert "expected NOT, BOUGHT, a tag id, '('" in e.message
    assert error("city = 'Shanghai").message.startswith("unterminated string")
    assert error("x = 1 y").hints == ["OR", "AND", "the end of the expression"]


def test_multiline_positions() -> None:
    e = error("vip\nAND x >")
    assert (e.position, e.offset) == ("line 2, column 8", 11)


def test_uppercase_tag_ids_are_refused_with_the_lowercase_hint() -> None:
    e = error("vip AND Orders_90d > 1")
    assert (e.code, e.offset, e.hints) == ("audience.syntax", 8, ["orders_90d"])


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty(text: str) -> None:
    assert error(text).code == "audience.empty"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("x = 99999999999999999999", 4),
        ("x = 9223372036854775808", 4),
        ("x = " + "9" * 5000, 4),
        ("x = DATE '2026-02-30'", 4),
        ("x = DATE '20260501'", 4),
        ("x < DAYS_AGO(-1)", 4),
        ("x < DAYS_AGO(36601)", 4),
        ("BOUGHT(category = 'coffee', days = 0)", 35),
    ],
)
def test_out_of_range_literals(text: str, offset: int) -> None:
    e = error(text)
    assert (e.code, e.offset) == ("audience.invalid_value", offset)


def test_int64_bounds_parse() -> None:
    assert parse("x = -9223372036854775808") == Compare("x", "=", -(2**63))
    assert parse("x = 9223372036854775807") == Compare("x", "=", 2**63 - 1)


@pytest.mark.parametrize(
    "text",
    [
        "BOUGHT(category = 'coffee')",
        "BOUGHT(category = 'coffee', line = 'latte')",
        "BOUGHT(days = 3, days = 4)",
        "BOUGHT(brand = 'x', days = 4)",
        "BOUGHT(category < 'x', days = 4)",
    ],
)
def test_malformed_bought(text: str) -> None:
    assert error(text).code == "audience.syntax"


def test_bought_argument_types() -> None:
    assert error("BOUGHT(category = 3, days = 4)").code == "audience.type_mismatch"
    assert error("BOUGHT(category = 'x', days = 'y')").code == "audience.type_mismatch"


def test_nesting_deeper_than_32_is_refused() -> None:
    assert parse("NOT " * 31 + "vip") is not None
    assert parse("(" * 32 + "vip" + ")" * 32) == Compare("vip", "=", True)
    e = error("NOT " * 32 + "vip")
    assert (e.code, e.offset) == ("audience.too_deep", 32 * 4)
    assert error("(" * 33 + "vip" + ")" * 33).code == "audience.too_deep"
    assert error("(" * 5000 + "vip" + ")" * 5000).code == "audience.too_deep"
    assert error("NOT " * 20_000 + "vip").code == "audience.too_deep"
    nested = "vip"
    for _ in range(40):
        nested = f"home_store IN STORES({nested})"
    assert error(nested).code == "audience.too_deep"


def test_wide_expressions_are_not_deep() -> None:
    text = " AND ".join(f"t{i} = {i}" for i in range(2000))
    expr = parse(text)
    assert isinstance(expr, And) and len(expr.operands) == 2000


_WORDS = ["AND", "OR", "NOT", "IN", "IS", "NULL", "STORES", "DATE ", "BETWEEN", "BOUGHT"]
_ALPHABET = st.sampled_from([*"abxyz_019 ()',=<>!-\n", *_WORDS, "DAYS_AGO", "true", "''"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_ALPHABET, max_size=25).map(" ".join)))
def test_fuzzed_text_raises_only_expression_errors(text: str) -> None:
    try:
        expr = parse(text)
    except ExpressionError as e:
        assert e.code.startswith("audience.")
        assert e.offset is None or 0 <= e.offset <= len(text)
    else:
        assert parse(to_text(expr)) == expr


def test_unstorable_strings_are_refused() -> None:
    e = error("x = 'a\x00b'")
    assert (e.code, e.offset) == ("audience.invalid_value", 4)
    assert error("x IN ('ok', '\ud800')").offset == 12


def test_problem_document_members() -> None:
    e = error("vip AND")
    assert e.extensions() == {"offset": 7, "hints": ["NOT", "BOUGHT", "a tag id", "("]}
