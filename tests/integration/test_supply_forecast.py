"""Demand forecasts, tomorrow's orders and the policy simulation on a generated chain, scored against
the generator's true demand (not against the code's own view of the data)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.integration.supply_chain import NOW, SupplyChain, build_supply_chain

from newretail.errors import InvalidInput
from newretail.lake import Lake
from newretail.supply import actions
from newretail.supply.forecast.backtest import Backtest, origins_for, run_backtest
from newretail.supply.forecast.panel import build_panel
from newretail.supply.forecast.publish import latest_run, run_file
from newretail.supply.forecast.run import history_until, run_forecast
from newretail.supply.history import History, load_history
from newretail.supply.launch import allocate_launch
from newretail.supply.promotions import Coupons
from newretail.supply.replenish.plan import PlanDraft
from newretail.supply.replenish.position import stock_at
from newretail.supply.simulate.reports import load_reports
from newretail.supply.simulate.run import BASELINE
from newretail.supply.simulate.twin import true_demand
from newretail.supply.transfers import evaluate

pytestmark = pytest.mark.slow
HORIZON = 14


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> SupplyChain:
    return build_supply_chain(tmp_path_factory.mktemp("supply"))


@pytest.fixture(scope="module")
def history(chain: SupplyChain) -> History:
    return load_history(chain.lake, engine="duckdb")


@pytest.fixture(scope="module")
def backtest(chain: SupplyChain, history: History) -> Backtest:
    def truth(origin: dt.date, horizon: int) -> np.ndarray:
        return true_demand(
            chain.truth,
            store_ids=history.network.store_ids,
            product_ids=history.goods.product_ids,
            first=origin + dt.timedelta(days=1),
            days=horizon,
        )

    origins = origins_for(history, horizon=HORIZON, count=2)
    return run_backtest(history, horizon=HORIZON, origins=origins, actuals=truth)


@pytest.fixture(scope="module")
def published(chain: SupplyChain) -> Iterator[actions.ForecastResult]:
    yield actions.forecast(chain.lake, engine="duckdb", now=NOW, backtest_origins=2)


def test_store_day_forecasts_are_accurate_against_true_demand(backtest: Backtest) -> None:
    best = backtest.best("store")
    assert backtest.mean_score(best, "store").accuracy >= 0.80
    assert backtest.mean_score(best, "chain").accuracy >= 0.88
    assert abs(backtest.mean_score(best, "store").bias) <= 0.10


def test_product_forecasts_beat_seasonal_naive_by_fifteen_percent(backtest: Backtest) -> None:
    naive = backtest.mean_score("seasonal_naive", "store_product").wape
    best = backtest.best("store_product")
    assert best != "seasonal_naive"
    assert backtest.mean_score(best, "store_product").wape <= 0.85 * naive


def test_a_published_run_has_every_table_and_the_manifest_last(
    chain: SupplyChain, history: History, published: actions.ForecastResult
) -> None:
    run = latest_run(chain.lake)
    assert run is not None and run.origin == history.sales.last
    demand = pq.read_table(run_file(chain.lake, "demand_forecast", run.origin))
    dates = set(demand.column("business_date").to_pylist())
    assert min(dates) == run.origin + dt.timedelta(days=1)
    assert max(dates) == run.origin + dt.timedelta(days=HORIZON)
    lo, mean, hi = (demand.column(c).to_numpy() for c in ("lo80_units", "mean_units", "hi80_units"))
    assert (lo <= mean).all() and (mean <= hi).all()
    # Material demand is the product forecast through the bill of materials.
    materials = pq.read_table(run_file(chain.lake, "material_forecast", run.origin))
    total = float(np.sum(materials.column("mean_quantity").to_numpy()))
    expected = float((published.run.product_mean @ history.goods.bom).sum())
    assert total == pytest.approx(expected, rel=1e-9)
    hourly = pq.read_table(run_file(chain.lake, "hourly_forecast", run.origin))
    assert float(np.sum(hourly.column("mean_units").to_numpy())) == pytest.approx(
        float(published.run.product_mean.sum()), rel=1e-6
    )
    manifest = json.loads(
        (chain.lake.table_dir("ads", "forecast_runs") / f"{run.origin}.json").read_text()
    )
    assert manifest["model"] == published.run.model
    assert manifest["rows"]["demand_forecast"] == demand.num_rows


@pytest.fixture(scope="module")
def plan(chain: SupplyChain, published: actions.ForecastResult) -> PlanDraft:
    return actions.plan(chain.lake, engine="duckdb", service_level=0.98)


def test_every_order_line_respects_its_terms(history: History, plan: PlanDraft) -> None:
    network, goods = history.network, history.goods
    store_dc = dict(zip(network.store_ids, network.dc_ids[network.store_dc], strict=True))
    pack = dict(zip(goods.material_ids, goods.pack_size, strict=True))
    supplier = dict(
        zip(goods.material_ids, network.supplier_ids[goods.material_supplier], strict=True)
    )
    orders = plan.orders()
    assert orders, "a chain a week into trading orders something"
    for line in orders:
        assert line.quantity == line.packs * pack[line.material_id]
        assert line.quantity <= line.explanation.shelf_life_cap
        if line.location_type == "store":
            assert line.from_id == store_dc[line.location_id]
            assert line.arrival_date > line.order_date
        else:
            assert line.from_id == supplier[line.material_id]
        why = line.explanation
        assert why.position == why.on_hand + why.in_transit
        assert why.raw_need == max(0, int(np.ceil(why.order_up_to - why.position)))


def test_the_simulation_replays_true_demand_and_reports_every_policy(
    chain: SupplyChain, history: History
) -> None:
    ident, report = actions.simulate(
        chain.lake,
        engine="duckdb",
        truth_dir=chain.truth,
        weeks=1,
        now=NOW,
        service_levels=(0.98, 0.999),
        backtest_origins=1,
    )
    assert [r.policy for r in report.rows] == [BASELINE, "forecast_0.98", "forecast_0.999"]
    network = history.network
    first = np.datetime64(report.first, "D")
    chinese = (network.store_country == "CN") & (network.store_opened <= first)
    assert report.currency == "CNY" and report.stores == int(chinese.sum())
    assert len(report.days[BASELINE].in_stock_core) == 7
    for row in report.rows:
        assert 0.0 <= row.in_stock_rate_core <= 1.0
        assert row.waste_cost_minor >= 0 and row.lost_units >= 0
    saved = load_reports(chain.lake)
    assert saved[0][0] == ident and saved[0][2] == report


def test_the_promotions_feature_means_the_same_in_training_and_in_the_horizon(
    history: History,
) -> None:
    # Two forecasts a week apart see the same coupons on the days they share: the later one's
    # training days are counted exactly as the earlier one's horizon was.
    assert history.coupons is not None
    last = history.sales.last
    early = build_panel(history, origin=last - dt.timedelta(days=21), horizon=HORIZON)
    late = build_panel(history, origin=last - dt.timedelta(days=14), horizon=HORIZON)
    shared = slice(early.history_days - 7, early.history_days + HORIZON)
    assert early.promotions[shared].sum() > 0
    np.testing.assert_array_equal(early.promotions[shared], late.promotions[shared])
    # No horizon day counts a coupon issued after the origin.
    origin_day = early.history_days - 1
    after = history.coupons.issued > origin_day
    assert after.any()
    without = Coupons(
        history.coupons.store[~after], history.coupons.issued[~after], history.coupons.end[~after]
    )
    n_stores = len(history.network.store_ids)
    known = without.live(early.history_days + HORIZON, n_stores, lead=HORIZON)
    np.testing.assert_array_equal(
        early.promotions[early.history_days :], known[early.history_days :]
    )


def test_bad_horizons_are_refused_naming_the_field(history: History) -> None:
    with pytest.raises(InvalidInput) as beyond:
        origins_for(history, horizon=56, count=1)
    assert beyond.value.code == "forecast.horizon_beyond_data"
    with pytest.raises(InvalidInput) as zero:
        run_forecast(history, horizon=0)
    assert zero.value.code == "forecast.bad_horizon"
    assert zero.value.field == "horizon"


def test_simulating_past_the_truth_is_refused(chain: SupplyChain, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        actions.simulate(chain.lake, engine="duckdb", truth_dir=chain.truth, weeks=26, now=NOW)
    assert caught.value.code == "supply.simulation_beyond_data"


def test_transfers_from_the_lake_cost_no_more_than_greedy(
    chain: SupplyChain, published: actions.ForecastResult
) -> None:
    result = actions.transfers(chain.lake, engine="duckdb", time_limit_s=10)
    assert result.plan.costs.total <= result.greedy.costs.total
    assert evaluate(result.plan, result.problem) == result.plan.costs
    for move in result.plan.moves:
        source = result.problem.location_ids.index(move.source)
        target = result.problem.location_ids.index(move.target)
        material = result.problem.material_ids.index(move.material)
        assert move.quantity <= result.problem.surplus[source, material]
        assert move.quantity <= result.problem.shortage[target, material]


def test_the_network_plan_serves_every_store_from_an_open_site(chain: SupplyChain) -> None:
    result = actions.network(chain.lake, engine="duckdb", time_limit_s=10)
    plan, problem = result.plan, result.problem
    assert len(plan.assignment) == len(problem.store_ids)
    assert set(plan.assignment) <= set(plan.open_sites)
    assert plan.costs.total <= result.greedy.costs.total
    assert plan.current is not None and plan.saving == plan.current.total - plan.costs.total


def test_a_launch_is_shared_out_by_its_analogues_launch_curves(history: History) -> None:
    goods = history.goods
    launched = goods.product_launched > np.datetime64(history.sales.first, "D") + 70
    product = str(goods.product_ids[np.flatnonzero(launched)[0]])
    day = goods.product_launched[np.flatnonzero(launched)[0]].astype(dt.date)
    before = history_until(history, day - dt.timedelta(days=1))
    allocation = allocate_launch(before, product_id=product, launch=day, days=14, total_units=500)
    assert int(allocation.units.sum()) == 500 and (allocation.units >= 0).all()
    assert product not in allocation.analogues and allocation.analogues
    order = np.argsort(allocation.expected)
    assert (np.diff(allocation.units[order]) >= -1).all()  # more expected, no fewer units
    # A store's expectation is its analogues' mean units over their first 14 days there.
    store = int(np.flatnonzero(allocation.basis == "analogues")[0])
    firsts = []
    for analogue in allocation.analogues:
        a = list(goods.product_ids).index(analogue)
        start = int(
            (goods.product_launched[a] - np.datetime64(before.sales.first, "D")).astype(int)
        )
        firsts.append(before.sales.units[start : start + 14, store, a])
    days = max(len(f) for f in firsts)
    means = [np.mean([f[k] for f in firsts if len(f) > k]) for k in range(days)]
    assert allocation.expected[store] == pytest.approx(sum(means))


def _small_lake(chain: SupplyChain, tmp: Path) -> Lake:
    for layer, name in [
        *(("dwd", n) for n in ("stores", "warehouses", "suppliers", "products", "materials")),
        ("dwd", "bill_of_materials"),
        ("dws", "store_product_day"),
        ("dws", "store_material_day"),
    ]:
        shutil.copytree(chain.lake.table_dir(layer, name), Lake(tmp).table_dir(layer, name))
    return Lake(tmp)


def test_a_material_without_a_pack_size_is_named(chain: SupplyChain, tmp_path: Path) -> None:
    lake = _small_lake(chain, tmp_path / "lake")
    for file in lake.files("dwd", "materials"):
        table = pq.read_table(file)
        sizes = table.column("pack_size").to_pylist()
        sizes[2] = None
        index = table.schema.get_field_index("pack_size")
        pq.write_table(
            table.set_column(index, "pack_size", pa.array(sizes, table.column(index).type)), file
        )
        missing = table.column("material_id")[2].as_py()
    with pytest.raises(InvalidInput) as caught:
        load_history(lake, engine="duckdb")
    assert caught.value.code == "supply.missing_pack_size"
    assert caught.value.field == missing


def test_a_negative_stock_count_is_named(
    chain: SupplyChain, history: History, tmp_path: Path
) -> None:
    lake = _small_lake(chain, tmp_path / "lake")
    newest = max(lake.files("dws", "store_material_day"))
    table = pq.read_table(newest)
    closing = table.column("closing_on_hand").to_pylist()
    row = next(i for i, t in enumerate(table.column("location_type").to_pylist()) if t == "store")
    closing[row] = -5
    index = table.schema.get_field_index("closing_on_hand")
    pq.write_table(
        table.set_column(index, "closing_on_hand", pa.array(closing, table.column(index).type)),
        newest,
    )
    with pytest.raises(InvalidInput) as caught:
        stock_at(
            lake,
            engine="duckdb",
            goods=history.goods,
            location_type="store",
            location_ids=history.network.store_ids,
            as_of=history.sales.last,
            days_ahead=3,
        )
    assert caught.value.code == "supply.negative_stock"
    where = f"{table.column('location_id')[row].as_py()}/{table.column('material_id')[row].as_py()}"
    assert caught.value.field == where
