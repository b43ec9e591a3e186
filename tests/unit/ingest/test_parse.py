"""The text rules of each ``Parse`` kind, run in DuckDB exactly as validation runs them."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from newretail.ingest.mapping import Parse
from newretail.ingest.parse import parse_sql

UTC = dt.UTC


def _parse(parse: Parse, text: str, target: pa.DataType) -> object:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    [(value,)] = con.execute(f"SELECT {parse_sql(parse, '$v', target)}", {"v": text}).fetchall()
    return value


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("18.50", 1850),
        ("18.5", 1850),
        ("18", 1800),
        ("-0.05", -5),
        ("+3.10", 310),
        ("0.01", 1),
        ("9999999999999999.99", 999999999999999999),
        ("18.505", None),  # more than two decimals is refused, never rounded
        ("18.", None),
        (".5", None),
        ("1e3", None),
        ("12,00", None),
        ("¥18", None),
    ],
)
def test_money_is_exact(text: str, minor: int | None) -> None:
    assert _parse("money", text, pa.int64()) == minor


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("-7", -7), ("1.5", None), ("1e3", None), ("300", None), ("x", None)],
)
def test_int_is_strict_and_fits_its_column(text: str, value: int | None) -> None:
    assert _parse("int", text, pa.int8() if text == "300" else pa.int32()) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("TRUE", True),
        ("y", True),
        ("0", False),
        ("False", False),
        ("N", False),
        ("yes", None),
        ("2", None),
    ],
)
def test_bool_forms(text: str, value: bool | None) -> None:
    assert _parse("bool", text, pa.bool_()) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-01-03", dt.date(2026, 1, 3)),
        ("20260103", dt.date(2026, 1, 3)),
        ("2026-02-30", None),
        ("2026/01/03", None),
        ("3 Jan 2026", None),
    ],
)
def test_date_forms(text: str, value: dt.date | None) -> None:
    assert _parse("date", text, pa.date32()) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-01-03T10:00:00Z", dt.datetime(2026, 1, 3, 10, tzinfo=UTC)),
        ("2026-01-03 18:00:00+08:00", dt.datetime(2026, 1, 3, 10, tzinfo=UTC)),
        ("2026-01-03T18:00:00.250+0800", dt.datetime(2026, 1, 3, 10, 0, 0, 250000, tzinfo=UTC)),
        ("1767434400000", dt.datetime(2026, 1, 3, 10, tzinfo=UTC)),
        ("2026-01-03 10:00:00", None),  # no offset: a UTC time must say so
        ("2026-01-03", None),
    ],
)
def test_utc_time_forms(text: str, value: dt.datetime | None) -> None:
    assert _parse("utc_time", text, pa.timestamp("us", tz="UTC")) == value


def test_local_time_is_naive_until_placed_in_a_zone() -> None:
    target = pa.timestamp("us", tz="UTC")
    naive = dt.datetime(2026, 1, 3, 10, 15)  # noqa: DTZ001 - the wall clock of an unknown zone
    assert _parse("local_time", "2026-01-03 10:15:00", target) == naive
    assert _parse("local_time", "2026-01-03T10:15:00+08:00", target) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [('{ "a" : [1, 2] }', '{"a":[1,2]}'), ("[1]", None), ("{oops", None), ('"s"', None)],
)
def test_json_objects_only_compacted(text: str, value: str | None) -> None:
    assert _parse("json", text, pa.string()) == value
