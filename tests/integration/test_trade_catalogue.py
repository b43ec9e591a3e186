"""The checkout catalogue synced from a small generated lake, on SQLite and PostgreSQL: prices are the
lake's latest list prices on the chosen day, Singapore stores trade in SGD, drinks come in sizes, and
a second sync changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.identity_chain import build_chain
from typer.testing import CliRunner

from newretail.cli.trade import trade_app
from newretail.config import get_settings
from newretail.errors import NoData, NotFound
from newretail.lake import Lake
from newretail.oltp.tables import catalogue_prices, catalogue_products, catalogue_stores
from newretail.trade.catalogue import items_for, store_info, sync_catalogue

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 1, 31, 2, 0, tzinfo=dt.UTC)
EARLY = dt.date(2026, 1, 10)  # some products not launched yet, some stores not open yet
LATE = dt.date(2026, 1, 30)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-store, 30-day chain (one store in Singapore) generated, ingested and built once."""
    return build_chain(tmp_path_factory.mktemp("catalogue"))


@pytest.fixture(scope="module")
def lake(home: Path) -> Lake:
    return Lake(home / "lake")


def dwd(lake: Lake, table: str) -> list[dict[str, Any]]:
    files = [str(f) for f in lake.files("dwd", table)]
    rows: list[dict[str, Any]] = pq.ParquetDataset(files).read().to_pylist()
    return rows


def expected_prices(lake: Lake, as_of: dt.date) -> dict[tuple[str, str], int]:
    """The latest list price valid on ``as_of`` per (product, currency), straight from the Parquet."""
    best: dict[tuple[str, str], tuple[dt.date, int]] = {}
    for row in dwd(lake, "product_prices"):
        key, valid_from = (row["product_id"], row["currency"]), row["valid_from"]
        if valid_from <= as_of and (key not in best or valid_from > best[key][0]):
            best[key] = (valid_from, row["price_minor"])
    return {key: value for key, (_, value) in best.items()}


def catalogue_rows(engine: Engine) -> list[list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return [
            [tuple(row) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in (catalogue_products, catalogue_prices, catalogue_stores)
        ]


def sync(engine: Engine, lake: Lake, as_of: dt.date) -> int:
    with engine.begin() as conn:
        return sync_catalogue(conn, lake, now=NOW, as_of=as_of).changed


def test_prices_are_the_lakes_latest_valid_on_the_day(migrated_engine: Engine, lake: Lake) -> None:
    for day in (EARLY, LATE):
        sync(migrated_engine, lake, day)
        with migrated_engine.connect() as conn:
            stored = {
                (r.product_id, r.currency): r.price_minor
                for r in conn.execute(select(catalogue_prices))
            }
        assert stored == expected_prices(lake, day)
    assert len(expected_prices(lake, EARLY)) < len(expected_prices(lake, LATE))


def test_products_are_on_sale_between_launch_and_retirement(
    migrated_engine: Engine, lake: Lake
) -> None:
    with migrated_engine.begin() as conn:
        result = sync_catalogue(conn, lake, now=NOW, as_of=EARLY)
        on_sale = dict(
            conn.execute(
                select(catalogue_products.c.product_id, catalogue_products.c.on_sale)
            ).all()
        )
    products = dwd(lake, "products")
    expected = {
        p["product_id"]: p["launched_on"] <= EARLY
        and (p["retired_on"] is None or p["retired_on"] >= EARLY)
        for p in products
    }
    assert on_sale == expected
    assert result.products == len(products)
    assert result.on_sale == sum(expected.values())


def test_drinks_come_in_sizes_priced_per_currency(migrated_engine: Engine, lake: Lake) -> None:
    sync(migrated_engine, lake, LATE)
    with migrated_engine.connect() as conn:
        cny = items_for(conn, ["P002", "P019", "P026", "P036"], currency="CNY")
        sgd = items_for(conn, ["P002", "P026"], currency="SGD")
    assert cny["P002"].sizes == {"M": 0, "L": 300}  # coffee
    assert cny["P019"].sizes == {"M": 0, "L": 300}  # tea
    assert cny["P026"].sizes == {} and cny["P036"].sizes == {}  # food, retail
    assert sgd["P002"].sizes == {"M": 0, "L": 50}
    prices = expected_prices(lake, LATE)
    assert cny["P002"].price_minor == prices[("P002", "CNY")]
    assert (sgd["P002"].price_minor, sgd["P002"].currency) == (prices[("P002", "SGD")], "SGD")
    assert (cny["P002"].name_en, cny["P002"].category) == ("Latte", "coffee")


def test_items_for_leaves_out_unknown_and_unpriced_products(
    migrated_engine: Engine, lake: Lake
) -> None:
    sync(migrated_engine, lake, EARLY)
    launched_later = "P037"  # the Christmas tumbler launches near the end of the month
    with migrated_engine.connect() as conn:
        found = items_for(conn, ["P001", "P001", "NOPE", launched_later], currency="CNY")
        assert items_for(conn, ["P001"], currency="EUR") == {}
        assert items_for(conn, [], currency="CNY") == {}
    assert set(found) == {"P001"}


def test_singapore_stores_trade_in_sgd(migrated_engine: Engine, lake: Lake) -> None:
    sync(migrated_engine, lake, LATE)
    stores = dwd(lake, "stores")
    with migrated_engine.connect() as conn:
        infos = {s["store_id"]: store_info(conn, s["store_id"]) for s in stores}
        with pytest.raises(NotFound) as caught:
            store_info(conn, "S9999")
    assert caught.value.code == "store.unknown"
    singapore = [info for info in infos.values() if info.city == "Singapore"]
    assert singapore and all(
        (i.currency, i.timezone) == ("SGD", "Asia/Singapore") for i in singapore
    )
    assert all(i.currency == "CNY" for i in infos.values() if i.city != "Singapore")
    for store in stores:
        opened, closed = store["opened_on"], store["closed_on"]
        assert infos[store["store_id"]].open == (
            opened <= LATE and (closed is None or closed > LATE)
        )


def test_a_second_sync_changes_nothing_and_an_earlier_day_restores_its_catalogue(
    migrated_engine: Engine, lake: Lake
) -> None:
    sync(migrated_engine, lake, EARLY)
    early = catalogue_rows(migrated_engine)
    assert sync(migrated_engine, lake, EARLY) == 0
    assert catalogue_rows(migrated_engine) == early
    assert sync(migrated_engine, lake, LATE) > 0
    assert catalogue_rows(migrated_engine) != early
    assert sync(migrated_engine, lake, EARLY) > 0
    assert catalogue_rows(migrated_engine) == early


def test_an_empty_lake_is_refused_and_nothing_is_written(
    migrated_engine: Engine, tmp_path: Path
) -> None:
    before = catalogue_rows(migrated_engine)
    with pytest.raises(NoData) as caught, migrated_engine.begin() as conn:
        sync_catalogue(conn, Lake(tmp_path / "lake"), now=NOW)
    assert caught.value.code == "trade.no_catalogue"
    assert catalogue_rows(migrated_engine) == before


@pytest.fixture
def cli_home(
    home: Path, database_url: str, migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("NEWRETAIL_HOME", str(home))
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_command_syncs_and_prints_counts(cli_home: None, migrated_engine: Engine) -> None:
    app = typer.Typer()
    app.add_typer(trade_app, name="trade")
    first = CliRunner().invoke(app, ["trade", "sync-catalogue", "--as-of", "2026-01-20"])
    assert first.exit_code == 0, first.output
    assert "catalogue as of 2026-01-20: 42 products" in first.output
    again = CliRunner().invoke(app, ["trade", "sync-catalogue", "--as-of", "2026-01-20"])
    assert "0 rows written" in again.output
    bad = CliRunner().invoke(app, ["trade", "sync-catalogue", "--as-of", "soon"])
    assert bad.exit_code == 2
    assert "error[trade.bad_date]" in bad.stderr
