"""The forecast and simulation read models over a tiny lake (two stores, two weeks of sales and
stock, a hand-written forecast run and saved reports): sums over stores with bands combined in
quadrature, actuals recomputed from the rows written, defaults, tomorrow's prep curve, the accuracy
table, store scope, and saved simulations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path

import pytest
from tests.integration.supply_forecast_lake import (
    CREATED,
    ORIGIN,
    day,
    report,
    write_forecast_chain,
)
from tests.integration.supply_health_lake import FIRST, LAST, Chain

from newretail.errors import Forbidden, NoData, NotFound
from newretail.lake import Lake
from newretail.supply.forecast.accuracy_table import forecast_accuracy
from newretail.supply.forecast.view_reads import ActualPoint, BandPoint
from newretail.supply.forecast.views import forecast_view
from newretail.supply.simulate.reports import save_report
from newretail.supply.simulate.views import require_truth, saved_simulation, saved_simulations

DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Chain]:
    lake = Lake(tmp_path_factory.mktemp("views") / "lake")
    return lake, write_forecast_chain(lake)


def sold(chain: Chain, stores: Collection[str], product: str | None = None) -> list[float]:
    """Units per day of the lake's first two weeks, summed from the rows written."""
    return [
        float(
            sum(
                r["units"]
                for r in chain.sales
                if r["business_date"] == d
                and r["store_id"] in stores
                and product in (None, r["product_id"])
            )
        )
        for d in DAYS
    ]


def used(chain: Chain, stores: Collection[str], material: str) -> list[float]:
    return [
        float(
            sum(
                -r["consumption"]
                for r in chain.stock
                if r["business_date"] == d
                and r["location_id"] in stores
                and r["material_id"] == material
            )
        )
        for d in DAYS
    ]


def band(points: tuple[BandPoint, ...]) -> list[tuple[dt.date, float, float, float]]:
    """The points, rounded to the micro-unit (the sums here are exact in binary anyway)."""
    return [(p.business_date, *(round(v, 6) for v in (p.mean, p.lo80, p.hi80))) for p in points]


def values(points: tuple[ActualPoint, ...]) -> list[float]:
    assert [p.business_date for p in points] == DAYS  # the lake starts on FIRST
    return [p.value for p in points]


def test_the_chain_sums_its_stores_and_combines_their_bands_in_quadrature(
    written: tuple[Lake, Chain],
) -> None:
    lake, chain = written
    view = forecast_view(lake, engine="duckdb", allowed=None)
    assert view.run.origin == ORIGIN and view.store_id is None
    assert [s.id for s in view.stores] == ["S1", "S2"]
    assert view.stores[0].name == "Store S1"
    # S1 is 100 (-30, +40), S2 60 (-40, +30), both growing by one a day: half-widths of 50.
    assert band(view.total.forecast) == [
        (day(1), 160, 110, 210),
        (day(2), 162, 112, 212),
        (day(3), 164, 114, 214),
    ]
    assert values(view.total.actual) == sold(chain, {"S1", "S2"})
    assert view.product is not None and view.product.choice.id == "P1"  # the most units
    assert [p.id for p in view.products] == ["P1", "P2"]
    assert band(view.product.series.forecast) == [(day(h), 100, 90, 110) for h in (1, 2, 3)]
    assert values(view.product.series.actual) == sold(chain, {"S1", "S2"}, "P1")
    assert view.material is not None and view.material.choice.id == "M1"  # the first core one
    assert (view.material.choice.name, view.material.choice.unit) == ("Material M1", "ml")
    assert band(view.material.series.forecast) == [(day(h), 3200, 2700, 3700) for h in (1, 2, 3)]
    assert values(view.material.series.actual) == used(chain, {"S1", "S2"}, "M1")
    assert view.prep_date == day(1)
    expected = [0.0] * 24
    expected[8], expected[9], expected[17] = 10.0, 25.0, 7.0
    assert list(view.prep_units) == expected  # tomorrow only, S1 and S2 added


def test_one_store_and_a_store_managers_scope(written: tuple[Lake, Chain]) -> None:
    lake, chain = written
    s2 = forecast_view(lake, engine="duckdb", allowed=None, store_id="S2")
    assert band(s2.total.forecast)[0] == (day(1), 60, 20, 90)
    assert values(s2.total.actual) == sold(chain, {"S2"})
    assert [p.id for p in s2.products] == ["P1"] and [m.id for m in s2.materials] == ["M1"]
    syrup = forecast_view(lake, engine="duckdb", allowed=None, store_id="S1", material_id="M3")
    assert syrup.material is not None
    assert band(syrup.material.series.forecast)[0] == (day(1), 60, 50, 70)
    assert values(syrup.material.series.actual) == used(chain, {"S1"}, "M3")

    mine = forecast_view(lake, engine="duckdb", allowed={"S1", "S7"})
    assert mine.store_id is None and [s.id for s in mine.stores] == ["S1"]
    assert band(mine.total.forecast)[0] == (day(1), 100, 70, 140)
    assert values(mine.total.actual) == sold(chain, {"S1"})
    with pytest.raises(Forbidden) as denied:
        forecast_view(lake, engine="duckdb", allowed={"S1"}, store_id="S2")
    assert denied.value.code == "auth.store_denied"
    for asked, code in (
        ({"store_id": "S9"}, "supply.unknown_store"),
        ({"product_id": "P9"}, "supply.unknown_product"),
        ({"store_id": "S2", "material_id": "M3"}, "supply.unknown_material"),
    ):
        with pytest.raises(NotFound) as unknown:
            forecast_view(lake, engine="duckdb", allowed=None, **asked)
        assert unknown.value.code == code


def test_the_accuracy_table_scores_each_model_against_seasonal_naive(
    written: tuple[Lake, Chain],
) -> None:
    table = forecast_accuracy(written[0])
    assert [(r.level, r.model) for r in table.rows] == [
        (level, model)
        for level in ("chain", "store", "store_product")
        for model in ("seasonal_naive", "ets_share")
    ]
    ets_store = table.rows[3]
    assert ets_store.accuracy == pytest.approx(0.85) and ets_store.serving
    assert ets_store.vs_naive == pytest.approx(0.15 / 0.30 - 1)
    assert table.rows[2].vs_naive is None and not table.rows[2].serving


def test_without_a_published_run_there_is_nothing_to_show(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for read in (
        lambda: forecast_view(lake, engine="duckdb", allowed=None),
        lambda: forecast_accuracy(lake),
    ):
        with pytest.raises(NoData) as none:
            read()
        assert none.value.code == "supply.no_forecast"


def test_saved_simulations_are_listed_newest_first_for_the_whole_chain_only(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "lake")
    assert saved_simulations(lake, allowed=None) == []
    older = save_report(lake, report(last=LAST - dt.timedelta(days=7)), now=CREATED)
    newer = save_report(lake, report(), now=CREATED + dt.timedelta(hours=1))
    saved = saved_simulations(lake, allowed=None)
    assert [s.id for s in saved] == [newer, older] == ["2026-03-15-CNY-14d", "2026-03-08-CNY-14d"]
    one = saved_simulation(lake, older, allowed=None)
    assert one.dates() == [LAST - dt.timedelta(days=20 - i) for i in range(14)]
    assert one.report.row("forecast_0.98").waste_vs_first == -0.4
    with pytest.raises(NotFound):
        saved_simulation(lake, "2026-01-01-CNY-7d", allowed=None)
    with pytest.raises(Forbidden) as scoped:
        saved_simulations(lake, allowed={"S1"})
    assert scoped.value.code == "supply.simulation_chain_wide"


def test_simulating_needs_the_ground_truth(tmp_path: Path) -> None:
    with pytest.raises(NoData) as missing:
        require_truth(tmp_path / "truth")
    assert missing.value.code == "supply.no_truth"
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "demand.parquet").write_bytes(b"PAR1")
    require_truth(tmp_path / "truth")
