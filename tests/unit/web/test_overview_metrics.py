"""The overview's queries on a hand-made lake: every expected figure below is summed by hand from
ORDERS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.web.chain import Order, write_chain

from newretail.lake import Engine, Lake, connect_engine
from newretail.metrics import Overview, Period, chain_overview, latest_business_date

D = dt.date
PERIOD = Period.ending(D(2026, 3, 31), days=30)  # 2026-03-02 .. 2026-03-31
ORDERS = [
    Order("SH01", D(2026, 3, 31), "app", 1250, "m1"),
    Order("SH01", D(2026, 3, 31), "pos", 800),
    Order("SH01", D(2026, 3, 30), "meituan", 2000, "m2"),
    Order("SH01", D(2026, 3, 30), "app", 999, "m1", status="cancelled"),
    Order("SH02", D(2026, 3, 2), "pos", 1500, "m1"),
    Order("SG01", D(2026, 3, 31), "app", 650, "m3"),
    Order("SG01", D(2026, 3, 15), "pos", 1100),
    Order("SH01", D(2026, 3, 1), "pos", 5000, "m9"),  # the day before the period
]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    write_chain(lake, ORDERS)
    return lake


@pytest.fixture
def engine() -> Iterator[Engine]:
    with connect_engine("duckdb", threads=1) as engine:
        yield engine


def overview(lake: Lake, engine: Engine, stores: frozenset[str] | None = None) -> Overview:
    return chain_overview(lake, engine, period=PERIOD, stores=stores)


def sales(result: Overview) -> dict[str, tuple[int, int]]:
    return {t.currency: (t.paid_minor, t.orders) for t in result.totals}


def test_the_latest_business_date_comes_from_the_partitions(lake: Lake, tmp_path: Path) -> None:
    assert latest_business_date(lake) == D(2026, 3, 31)
    assert latest_business_date(Lake(tmp_path / "empty")) is None


def test_sales_are_paid_on_completed_orders_per_currency(lake: Lake, engine: Engine) -> None:
    result = overview(lake, engine)
    assert sales(result) == {"CNY": (1250 + 800 + 2000 + 1500, 4), "SGD": (650 + 1100, 2)}
    assert result.orders == 6
    cny = result.total("CNY")
    assert cny is not None
    assert cny.basket_minor == Decimal("1387.5")


def test_active_members_are_distinct_across_stores_and_days(lake: Lake, engine: Engine) -> None:
    # m1 bought at SH01 and SH02; m2 and m3 once; m1's cancelled order and m9 (outside) do not count.
    assert overview(lake, engine).active_members == 3


def test_the_trend_has_one_row_per_day_and_currency(lake: Lake, engine: Engine) -> None:
    trend = {(d.business_date, d.currency): d.paid_minor for d in overview(lake, engine).trend}
    assert trend == {
        (D(2026, 3, 2), "CNY"): 1500,
        (D(2026, 3, 15), "SGD"): 1100,
        (D(2026, 3, 30), "CNY"): 2000,
        (D(2026, 3, 31), "CNY"): 2050,
        (D(2026, 3, 31), "SGD"): 650,
    }


def test_the_channel_split_keeps_currencies_apart(lake: Lake, engine: Engine) -> None:
    split = {
        (c.channel, c.currency): (c.paid_minor, c.orders) for c in overview(lake, engine).channels
    }
    assert split == {
        ("app", "CNY"): (1250, 1),
        ("meituan", "CNY"): (2000, 1),
        ("pos", "CNY"): (2300, 2),
        ("app", "SGD"): (650, 1),
        ("pos", "SGD"): (1100, 1),
    }


def test_a_store_scope_limits_every_figure(lake: Lake, engine: Engine) -> None:
    one = overview(lake, engine, frozenset({"SH01"}))
    assert sales(one) == {"CNY": (4050, 3)}
    assert one.active_members == 2
    assert {c.channel for c in one.channels} == {"app", "pos", "meituan"}
    assert {d.business_date for d in one.trend} == {D(2026, 3, 30), D(2026, 3, 31)}
    two = overview(lake, engine, frozenset({"SH02", "SG01"}))
    assert sales(two) == {"CNY": (1500, 1), "SGD": (1750, 2)}
    assert two.active_members == 2


def test_an_empty_scope_sees_nothing(lake: Lake, engine: Engine) -> None:
    result = overview(lake, engine, frozenset())
    assert (result.totals, result.trend, result.channels, result.active_members) == ((), (), (), 0)


def test_an_empty_lake_gives_empty_figures(tmp_path: Path, engine: Engine) -> None:
    result = overview(Lake(tmp_path / "empty"), engine)
    assert (result.totals, result.active_members) == ((), 0)


def test_periods_count_both_ends() -> None:
    assert (PERIOD.first, PERIOD.days) == (D(2026, 3, 2), 30)
    assert PERIOD.previous() == Period(D(2026, 1, 31), D(2026, 3, 1))
