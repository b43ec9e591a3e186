"""The text and JSON forms are lossless: tree → text → tree and tree → JSON → tree are identities."""

from __future__ import annotations

import json

from hypothesis import given, settings
from tests.unit.audience.strategies import any_expressions, person_expressions

from newretail.audience.expression import Expr, from_json, to_json
from newretail.audience.parser import parse
from newretail.audience.printer import to_text


def same(a: Expr, b: Expr) -> bool:
    # repr tells True from 1 (equal in Python, different in the language).
    return a == b and repr(a) == repr(b)


@settings(max_examples=200, deadline=None)
@given(any_expressions)
def test_text_round_trip(expr: Expr) -> None:
    text = to_text(expr)
    parsed = parse(text)
    assert same(parsed, expr), text
    assert to_text(parsed) == text  # the printer's output is canonical


@settings(max_examples=200, deadline=None)
@given(any_expressions)
def test_json_round_trip(expr: Expr) -> None:
    doc = to_json(expr)
    assert same(from_json(doc), expr)
    assert same(from_json(json.loads(json.dumps(doc))), expr)


@settings(max_examples=100, deadline=None)
@given(person_expressions)
def test_where_a_tree_came_from_is_not_part_of_equality(expr: Expr) -> None:
    assert same(parse(to_text(expr)), from_json(to_json(parse(to_text(expr)))))
