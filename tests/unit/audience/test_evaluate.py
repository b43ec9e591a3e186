"""The bitmaps and the SQL agree: for random expressions over a random wide tag table (nulls in
every column, each value type, a store table), ``evaluate`` on the real ``TagIndex`` selects exactly
the persons DuckDB selects with ``to_sql``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.audience.strategies import (
    AS_OF,
    PERSON_SPECS,
    PERSONS,
    STORE_IDS,
    STORE_SPECS,
    STORES,
    person_expressions,
)

from newretail.audience.check import check
from newretail.audience.errors import ExpressionError
from newretail.audience.evaluate import evaluate
from newretail.audience.expression import Expr
from newretail.audience.parser import parse
from newretail.audience.sql import to_sql
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.spec import TagSpec


def _column(spec: TagSpec) -> st.SearchStrategy[Any]:
    if spec.value_type == "bool":
        value: st.SearchStrategy[Any] = st.booleans()
    elif spec.value_type == "number":
        value = st.integers(-2, 10)
    elif spec.value_type == "date":
        value = st.dates(dt.date(2026, 3, 1), dt.date(2026, 5, 1))
    else:
        value = st.sampled_from(spec.values or (*STORE_IDS, "s9"))
    return st.one_of(st.none(), value)


@st.composite
def tables(draw: st.DrawFn, specs: Sequence[TagSpec], key: str, keys: Sequence[str]) -> pa.Table:
    n = draw(st.integers(1, len(keys)))
    columns: dict[str, pa.Array[Any]] = {key: pa.array(keys[:n], pa.string())}
    for spec in specs:
        values = draw(st.lists(_column(spec), min_size=n, max_size=n))
        columns[spec.id] = pa.array(values, spec.arrow_type)
    return pa.table(columns)


@dataclass
class World:
    persons: TagIndex
    stores: TagIndex
    sql: duckdb.DuckDBPyConnection

    @classmethod
    def of(
        cls, persons: pa.Table, stores: pa.Table, con: duckdb.DuckDBPyConnection | None = None
    ) -> World:
        con = con or duckdb.connect()
        con.register("person_tags", persons)
        con.register("store_tags", stores)
        return cls(
            TagIndex.build(
                persons, PERSON_SPECS, entity="person", as_of=AS_OF, dense=DenseIds.empty()
            ),
            TagIndex.build(
                stores, STORE_SPECS, entity="store", as_of=AS_OF, dense=DenseIds.empty()
            ),
            con,
        )

    def by_bitmaps(self, expr: Expr) -> set[str]:
        return set(self.persons.keys(evaluate(expr, self.persons, stores=self.stores)))

    def by_sql(self, expr: Expr) -> set[str]:
        where = to_sql(expr, as_of=AS_OF)
        rows = self.sql.execute(f"SELECT person_id FROM person_tags WHERE {where}").fetchall()
        return {row[0] for row in rows}


_DUCKDB = duckdb.connect()  # one connection for all examples; each re-registers its tables
PERSON_KEYS = [f"p{i}" for i in range(30)]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    tables(PERSON_SPECS, "person_id", PERSON_KEYS),
    tables(STORE_SPECS, "store_id", STORE_IDS),
    st.lists(person_expressions, min_size=1, max_size=4),
)
def test_bitmaps_and_sql_select_the_same_persons(
    persons: pa.Table, stores: pa.Table, exprs: list[Expr]
) -> None:
    world = World.of(persons, stores, _DUCKDB)
    for expr in exprs:
        check(expr, PERSONS, stores=STORES)
        assert world.by_bitmaps(expr) == world.by_sql(expr), to_sql(expr, as_of=AS_OF)


# --- examples -----------------------------------------------------------------------------------

PEOPLE = pa.table(
    {
        "person_id": ["p0", "p1", "p2", "p3"],
        "vip": pa.array([True, False, None, True]),
        "sms_opt_out": pa.array([None, True, False, None]),
        "lifecycle": pa.array(["new", "lapsing", None, "lapsing"]),
        "home_store": pa.array(["s1", "s2", "s9", None]),
        "orders_90d": pa.array([0, 3, None, 7], pa.int64()),
        "spend_90d": pa.array([None, None, None, None], pa.int64()),
        "last_order": pa.array([None, dt.date(2026, 4, 20), dt.date(2026, 1, 1), None]),
        "last_bought_category_coffee": pa.array(
            [dt.date(2026, 4, 30), dt.date(2026, 3, 1), None, dt.date(2026, 4, 1)]
        ),
        "last_bought_category_tea": pa.array([None, None, None, None], pa.date32()),
        "last_bought_line_latte": pa.array([None, dt.date(2026, 4, 25), None, None]),
    }
)
SHOPS = pa.table(
    {
        "store_id": ["s1", "s2", "s3"],
        "city": ["Shanghai", "Beijing", "Shanghai"],
        "format": pa.array(["pickup", "pickup", None]),
        "open_late": pa.array([True, None, False]),
        "area_sqm": pa.array([80, 120, None], pa.int64()),
        "opened": pa.array([dt.date(2020, 1, 1), None, dt.date(2026, 4, 1)]),
    }
)


@pytest.fixture(scope="module")
def world() -> World:
    return World.of(PEOPLE, SHOPS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vip", {"p0", "p3"}),
        ("NOT vip", {"p1", "p2"}),  # null is not true
        ("vip != true", {"p1"}),  # null satisfies no comparison
        ("NOT sms_opt_out", {"p0", "p2", "p3"}),
        ("lifecycle NOT IN ('lapsing')", {"p0", "p2"}),
        ("lifecycle IS NULL OR orders_90d BETWEEN 1 AND 3", {"p1", "p2"}),
        ("spend_90d IS NOT NULL", set()),
        ("last_order >= DAYS_AGO(30)", {"p1"}),
        ("BOUGHT(category = 'coffee', days = 30)", {"p0", "p3"}),
        ("BOUGHT(line = 'latte', days = 7)", {"p1"}),
        ("home_store IN STORES(city = 'Shanghai')", {"p0"}),
        ("home_store IN STORES(format = 'pickup' AND NOT open_late)", {"p1"}),
        ("NOT home_store IN STORES(city = 'Shanghai')", {"p1", "p2", "p3"}),
        ("home_store IN STORES(area_sqm > 1000)", set()),
        ("vip AND NOT lifecycle = 'new' AND NOT orders_90d < 5", {"p3"}),
        ("NOT vip AND NOT sms_opt_out", {"p2"}),
    ],
)
def test_examples(world: World, text: str, expected: set[str]) -> None:
    expr = parse(text)
    check(expr, PERSONS, stores=STORES)
    assert world.by_bitmaps(expr) == expected
    assert world.by_sql(expr) == expected


def test_store_selection_needs_the_store_index(world: World) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(parse("home_store IN STORES(open_late)"), world.persons, stores=None)
    assert caught.value.code == "audience.not_allowed"


def test_a_whole_store_expression(world: World) -> None:
    expr = parse("city = 'Shanghai' AND opened < DAYS_AGO(365)")
    check(expr, STORES, entity="store")
    assert world.stores.keys(evaluate(expr, world.stores)) == ["s1"]
