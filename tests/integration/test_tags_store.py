"""Store tags on a generated chain: every shipped definition runs over the store features on DuckDB,
the values are plausible and agree with the generator and with sums taken straight from dwd/orders,
the tag computation gives the same values, and features and tags come out the same on Spark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from tests.integration.spark_session import spark

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake import Engine, Lake, build, connect_engine
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate
from newretail.sim.geography import CITIES
from newretail.sim.stores import FORMATS, build_stores
from newretail.tags.catalogue import Catalogue
from newretail.tags.compute import compute_tags
from newretail.tags.spec import TagSpec
from newretail.tags.store_features import STORE_INPUTS, store_features

__all__ = ["spark"]  # a fixture

CONFIG = SimConfig(members=800, stores=10, days=60, seed=4)
AS_OF = CONFIG.end
_DUCKDB_TYPES = {
    "bool": ("BOOLEAN",),
    "enum": ("VARCHAR",),
    "number": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"),
    "date": ("DATE",),
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The chain generated, ingested and built (about 15 seconds)."""
    tmp = tmp_path_factory.mktemp("store_tags")
    generate(CONFIG, out=tmp / "chain", progress=SilentProgress())
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return lake


def _features(lake: Lake, engine: Engine, as_of: dt.date) -> pa.Table:
    tables = {
        name: engine.read(
            lake.files(layer, spec.name), base=lake.table_dir(layer, spec.name), schema=spec.schema
        )
        for name, (layer, spec) in STORE_INPUTS.items()
    }
    expr = store_features(tables, as_of=as_of)
    return engine.execute(expr, schema=expr.schema().to_pyarrow(), label="store_features")


@pytest.fixture(scope="module")
def features(lake: Lake) -> pa.Table:
    with connect_engine("duckdb", threads=1) as engine:
        return _features(lake, engine, AS_OF)


@pytest.fixture(scope="module")
def tags() -> list[TagSpec]:
    return Catalogue.shipped().for_entity("store")


def _evaluate(features: pa.Table, tags: list[TagSpec]) -> dict[str, dict[str, Any]]:
    """Every tag's value per store: {tag id: {store id: value}}, each definition run by DuckDB."""
    con = duckdb.connect()
    con.register("features", features)
    out: dict[str, dict[str, Any]] = {}
    for tag in tags:
        result = con.sql(f'SELECT store_id, {tag.definition} AS "{tag.id}" FROM features')
        column_type = str(result.types[1])
        assert column_type in _DUCKDB_TYPES[tag.value_type], (tag.id, column_type)
        out[tag.id] = dict(result.fetchall())
    con.close()
    return out


@pytest.fixture(scope="module")
def values(features: pa.Table, tags: list[TagSpec]) -> dict[str, dict[str, Any]]:
    return _evaluate(features, tags)


@pytest.fixture(scope="module")
def orders(lake: Lake) -> duckdb.DuckDBPyConnection:
    """dwd/orders as a DuckDB view, for sums taken independently of the features."""
    con = duckdb.connect()
    files = [str(f) for f in lake.files("dwd", "orders")]
    con.sql(
        f"CREATE VIEW orders AS SELECT * REPLACE (CAST(business_date AS DATE) AS business_date)"
        f" FROM read_parquet({files}, hive_partitioning = true)"
    )
    return con


def _paid(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> dict[str, int]:
    """Paid on completed orders per store with business_date in [first, last]."""
    rows = con.execute(
        "SELECT store_id, SUM(paid_minor) FROM orders WHERE status = 'completed'"
        " AND business_date BETWEEN ? AND ? GROUP BY store_id",
        [first, last],
    ).fetchall()
    return {store: int(paid) for store, paid in rows}


def test_catalogue_has_at_least_forty_distinct_store_tags(tags: list[TagSpec]) -> None:
    ids = [t.id for t in tags]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert {t.entity for t in tags} == {"store"}
    for tag in tags:
        assert tag.name_zh and tag.name_en and tag.description_zh and tag.description_en, tag.id
        bound = Catalogue.shipped().values_from(tag.id) is not None
        assert (tag.value_type == "enum") == (bool(tag.values) or bound), tag.id
        assert "{" not in tag.definition and "{" not in tag.id, tag.id


def test_features_hold_one_row_per_store(lake: Lake, features: pa.Table) -> None:
    stores = lake.read_partition("dwd", "stores", {})
    assert sorted(features["store_id"].to_pylist()) == sorted(stores["store_id"].to_pylist())
    assert features["as_of"].unique().to_pylist() == [AS_OF]


def test_every_definition_runs_and_enums_stay_in_their_domain(
    lake: Lake, tags: list[TagSpec], values: dict[str, dict[str, Any]]
) -> None:
    cities = set(lake.read_partition("dwd", "stores", {})["city"].to_pylist())
    domains = {"store_cities": cities}
    for tag in tags:
        if tag.value_type == "enum":
            bound = Catalogue.shipped().values_from(tag.id)
            domain = domains[bound] if bound is not None else set(tag.values)
            found = {v for v in values[tag.id].values() if v is not None}
            assert found <= domain, (tag.id, found - domain)


def test_the_tag_computation_gives_the_same_values(
    lake: Lake, tags: list[TagSpec], values: dict[str, dict[str, Any]]
) -> None:
    with connect_engine("duckdb", threads=1) as engine:
        table = compute_tags(lake, engine, Catalogue.shipped(), entity="store", as_of=AS_OF)
    assert table.column_names == ["store_id", *(t.id for t in tags)]
    stores = table["store_id"].to_pylist()
    for tag in tags:
        got = dict(zip(stores, table[tag.id].to_pylist(), strict=True))
        assert got == values[tag.id], tag.id


def test_shares_are_whole_percents(tags: list[TagSpec], values: dict[str, dict[str, Any]]) -> None:
    shares = [t for t in tags if t.unit == "percent"]
    assert len(shares) >= 15
    for tag in shares:
        assert all(0 <= v <= 100 for v in values[tag.id].values() if v is not None), tag.id
    # Most stores sold in the last 28 days, so most shares have a value.
    assert sum(v is not None for v in values["delivery_share_28d"].values()) >= 5
    for store, morning in values["morning_share_28d"].items():
        if morning is not None:
            total = (
                morning + values["afternoon_share_28d"][store] + values["evening_share_28d"][store]
            )
            assert 98 <= total <= 102, store


def test_every_store_has_a_format_city_and_country(values: dict[str, dict[str, Any]]) -> None:
    for tag_id in (
        "format",
        "city",
        "country",
        "store_currency",
        "timezone",
        "city_tier",
        "trading_status",
    ):
        assert len(values[tag_id]) == CONFIG.stores
        assert all(v is not None for v in values[tag_id].values()), tag_id


def test_format_city_and_opening_are_the_generators(values: dict[str, dict[str, Any]]) -> None:
    truth = build_stores(CONFIG.seed, CONFIG.stores, CONFIG.days)
    for i, store in enumerate(truth.ids):
        city = CITIES[int(truth.city[i])]
        assert values["format"][store] == FORMATS[int(truth.format[i])]
        assert values["city"][store] == city.name
        assert values["country"][store] == city.country
        assert values["store_currency"][store] == city.currency
        opened = CONFIG.start + dt.timedelta(days=int(truth.open_day[i]))
        assert values["opened_on"][store] == opened
        assert values["store_age_days"][store] == (AS_OF - opened).days
        assert values["new_store"][store] == ((AS_OF - opened).days < 90)
        assert values["dine_in"][store] == (int(truth.seats[i]) > 0)
    assert values["city_tier"][truth.ids[0]] == "tier_1"  # the Shanghai flagship
    assert "overseas" in values["city_tier"].values()  # one store trades in Singapore


def test_orders_and_sales_match_dwd_orders(
    orders: duckdb.DuckDBPyConnection, values: dict[str, dict[str, Any]]
) -> None:
    for days in (7, 28, 90):
        first = AS_OF - dt.timedelta(days=days - 1)
        counted = dict(
            orders.execute(
                "SELECT store_id, COUNT(*) FROM orders WHERE status = 'completed'"
                " AND business_date BETWEEN ? AND ? GROUP BY store_id",
                [first, AS_OF],
            ).fetchall()
        )
        paid = _paid(orders, first, AS_OF)
        for store in values["format"]:
            assert values[f"store_orders_{days}d"][store] == counted.get(store, 0), (days, store)
            assert values[f"store_sales_{days}d"][store] == paid.get(store, 0), (days, store)


def test_sales_tiers_are_quintiles_within_currency(values: dict[str, dict[str, Any]]) -> None:
    tiers, sales, currency = (
        values["sales_tier_28d"],
        values["store_sales_28d"],
        values["store_currency"],
    )
    for store, tier in tiers.items():
        assert (tier is None) == (sales[store] == 0), store
    for cur in set(currency.values()):
        selling = sorted(
            (sales[s], s) for s in tiers if currency[s] == cur and tiers[s] is not None
        )
        ranked = [tiers[s] for _, s in selling]
        assert ranked == sorted(ranked), cur  # more sales, never a lower tier
        if len(selling) >= 5:
            assert set(ranked) == {1, 2, 3, 4, 5}, cur


def test_growth_trend_agrees_with_sales_from_orders(
    orders: duckdb.DuckDBPyConnection, values: dict[str, dict[str, Any]]
) -> None:
    recent = _paid(orders, AS_OF - dt.timedelta(days=27), AS_OF)
    before = _paid(orders, AS_OF - dt.timedelta(days=55), AS_OF - dt.timedelta(days=28))
    seen = set()
    for store, trend in values["growth_trend_28d"].items():
        opened: dt.date = values["opened_on"][store]
        now, then = recent.get(store, 0), before.get(store, 0)
        if (AS_OF - opened).days < 56 or then == 0:
            assert trend is None, store
            assert values["sales_growth_28d"][store] is None, store
            continue
        change = (now - then) / then
        expected = "growing" if change >= 0.05 else "declining" if change <= -0.05 else "flat"
        assert trend == expected, (store, now, then)
        assert values["sales_growth_28d"][store] == pytest.approx(100 * change, abs=0.5 + 1e-9)
        seen.add(trend)
    assert seen, "no store old enough for a trend: the chain is too short"


def test_service_and_footfall_values_are_plausible(values: dict[str, dict[str, Any]]) -> None:
    for store, fmt in values["format"].items():
        if fmt == "delivery_kitchen":
            assert values["footfall_28d"][store] == 0
            assert values["conversion_28d"][store] is None
    assert any(v is not None and v > 0 for v in values["conversion_28d"].values())
    ratings = [v for v in values["rating_x10_28d"].values() if v is not None]
    assert ratings and all(10 <= v <= 50 for v in ratings)
    make = [v for v in values["make_seconds_28d"].values() if v is not None]
    assert make and all(0 < v < 3600 for v in make)
    assert all(v is None or 0 <= v <= 23 for v in values["peak_hour_28d"].values())
    assert all(v is None or v >= 0 for v in values["complaints_per_1000_28d"].values())
    for store, last in values["last_trading_date"].items():
        since = values["days_since_trading"][store]
        assert since == (None if last is None else (AS_OF - last).days), store


def test_facts_after_as_of_are_ignored(
    lake: Lake, orders: duckdb.DuckDBPyConnection, features: pa.Table
) -> None:
    earlier = AS_OF - dt.timedelta(days=10)
    with connect_engine("duckdb", threads=1) as engine:
        past = _features(lake, engine, earlier)
    paid = _paid(orders, earlier - dt.timedelta(days=27), earlier)
    got = dict(zip(past["store_id"].to_pylist(), past["paid_minor_28d"].to_pylist(), strict=True))
    assert got == {s: paid.get(s, 0) for s in got}
    assert all(d is None or d <= earlier for d in past["last_order_date"].to_pylist())
    assert past["paid_minor_28d"].to_pylist() != features["paid_minor_28d"].to_pylist()


def test_life_cycle_follows_the_as_of_date(lake: Lake, tags: list[TagSpec]) -> None:
    early = CONFIG.start + dt.timedelta(days=10)
    with connect_engine("duckdb", threads=1) as engine:
        at = _evaluate(_features(lake, engine, early), tags)
    truth = build_stores(CONFIG.seed, CONFIG.stores, CONFIG.days)
    statuses = set()
    for i, store in enumerate(truth.ids):
        day = (early - CONFIG.start).days
        expected = (
            "not_yet_open"
            if truth.open_day[i] > day
            else "closed"
            if truth.close_day[i] <= day
            else "open"
        )
        statuses.add(expected)
        assert at["trading_status"][store] == expected, store
        assert at["closed"][store] == (expected == "closed"), store
        assert (at["store_age_days"][store] is None) == (expected == "not_yet_open"), store
        if expected == "not_yet_open":
            assert at["store_orders_28d"][store] == 0 and at["sales_tier_28d"][store] is None, store
    assert "not_yet_open" in statuses  # the generator opens a quarter of the stores later


@pytest.mark.spark
def test_store_features_on_spark_equal_duckdb(lake: Lake, features: pa.Table, spark: Any) -> None:
    with connect_engine("spark", session=spark) as engine:
        on_spark = _features(lake, engine, AS_OF)
    on_spark = on_spark.cast(features.schema).sort_by("store_id")
    assert on_spark.column_names == features.column_names
    for name in features.column_names:
        assert on_spark[name].to_pylist() == features.sort_by("store_id")[name].to_pylist(), name


@pytest.mark.spark
def test_store_tags_on_spark_equal_duckdb(lake: Lake, spark: Any) -> None:
    catalogue = Catalogue.shipped()
    with connect_engine("duckdb", threads=1) as engine:
        on_duckdb = compute_tags(lake, engine, catalogue, entity="store", as_of=AS_OF)
    with connect_engine("spark", session=spark) as engine:
        on_spark = compute_tags(lake, engine, catalogue, entity="store", as_of=AS_OF)
    for name in on_duckdb.column_names:
        assert on_spark[name].to_pylist() == on_duckdb[name].to_pylist(), name
