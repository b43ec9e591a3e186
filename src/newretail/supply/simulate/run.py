"""Policies compared on the twin: the last N weeks of the chain replayed with its true demand through
the obvious policy (order up to last week's usage) and the forecast-driven one at several service
levels, each starting from the stock the stores really held, figures side by side.

Stores trading in one currency are simulated together (money is never summed across currencies);
a store that opened or closed inside the window is left out, and the report says how many.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newretail.config import Engine as EngineName
from newretail.errors import InvalidInput
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.progress import Progress, SilentProgress
from newretail.supply.history import Goods, History
from newretail.supply.lake_reader import LakeReader, column_array
from newretail.supply.replenish.position import stock_at
from newretail.supply.simulate.compare import ComparisonRow, compare_results
from newretail.supply.simulate.engine import Scenario
from newretail.supply.simulate.policies import ForecastDriven, OrderUpToLastWeek, Policy
from newretail.supply.simulate.result import SimResult
from newretail.supply.simulate.rolling import RollingForecasts
from newretail.supply.simulate.twin import true_demand

BASELINE = "order_up_to_last_week"
DEFAULT_SERVICE_LEVELS = (0.95, 0.98, 0.995, 0.999, 0.9995)
HOLDING_BP_PER_DAY = (
    5  # 0.05% of stock value a day (about 18% a year: capital, space, spoilage risk)
)
_MIN_HISTORY_DAYS = 56


@dataclass(frozen=True)
class PolicyDays:
    """Per day of the window: core in-stock rate and waste cost (for the charts)."""

    in_stock_core: list[float]
    waste_cost_minor: list[int]


@dataclass(frozen=True)
class SimulationReport:
    first: dt.date
    last: dt.date
    currency: str
    stores: int
    stores_left_out: int
    forecast_model: str
    rows: list[ComparisonRow]
    days: dict[str, PolicyDays]
    materials: dict[str, dict[str, dict[str, float]]]  # policy -> material -> figure -> value

    def row(self, policy: str) -> ComparisonRow:
        return next(r for r in self.rows if r.policy == policy)


def simulate_policies(
    lake: Lake,
    history: History,
    *,
    engine: EngineName,
    truth_dir: Path,
    weeks: int,
    service_levels: tuple[float, ...] = DEFAULT_SERVICE_LEVELS,
    currency: str = "CNY",
    backtest_origins: int = 2,
    progress: Progress | None = None,
) -> SimulationReport:
    """Replay the last ``weeks`` weeks of the lake's data through each policy."""
    if not 1 <= weeks <= 26:
        raise InvalidInput("supply.bad_weeks", "simulate 1 to 26 weeks", field="weeks")
    days = 7 * weeks
    last = history.sales.last
    first = last - dt.timedelta(days=days - 1)
    if (first - history.sales.first).days < _MIN_HISTORY_DAYS:
        raise InvalidInput(
            "supply.simulation_beyond_data",
            f"{weeks} weeks leave less than {_MIN_HISTORY_DAYS} days of history to forecast from",
            field="weeks",
        )
    stores, left_out = _stores(history, currency=currency, first=first, last=last)
    network, goods = history.network, history.goods
    demand = true_demand(
        truth_dir,
        store_ids=network.store_ids[stores],
        product_ids=goods.product_ids,
        first=first,
        days=days,
    )
    opening = stock_at(
        lake,
        engine=engine,
        goods=goods,
        location_type="store",
        location_ids=network.store_ids[stores],
        as_of=first - dt.timedelta(days=1),
        days_ahead=1,
    )
    scenario = Scenario(
        demand=demand.astype(np.int64),
        bom=goods.bom,
        pack_size=goods.pack_size,
        shelf_life_days=goods.shelf_life_days,
        is_core=goods.is_core,
        pack_cost_minor=goods.pack_cost_minor,
        lead_days=np.maximum(network.store_lead_days[stores], 1),
        review_days=np.ones(len(goods.material_ids), dtype=np.int64),
        min_order_packs=np.ones(len(goods.material_ids), dtype=np.int64),
        initial_on_hand=opening.on_hand + opening.in_transit.sum(axis=2),
        price_minor=_prices(lake, history, engine=engine, currency=currency, on=first),
        holding_bp_per_day=HOLDING_BP_PER_DAY,
    )
    forecasts = RollingForecasts(
        history,
        first=first,
        days=days,
        stores=stores,
        backtest_origins=backtest_origins,
        progress=progress,
    )
    policies: dict[str, Policy] = {BASELINE: OrderUpToLastWeek()}
    for level in service_levels:
        policies[f"forecast_{level:g}"] = ForecastDriven(forecasts, level)
    task = (progress or SilentProgress()).task("policies", 1)
    rows, results = compare_results(scenario, policies)
    task.advance()
    return SimulationReport(
        first=first,
        last=last,
        currency=currency,
        stores=len(stores),
        stores_left_out=left_out,
        forecast_model=forecasts.model,
        rows=rows,
        days={name: _days(result, goods) for name, result in results.items()},
        materials={
            name: _materials(result, goods.material_ids) for name, result in results.items()
        },
    )


def _stores(
    history: History, *, currency: str, first: dt.date, last: dt.date
) -> tuple[np.ndarray, int]:
    network = history.network
    in_currency = network.store_currency == currency
    never = np.datetime64("9999-12-31")
    open_all = (network.store_opened <= np.datetime64(first, "D")) & (
        np.where(np.isnat(network.store_closed), never, network.store_closed)
        >= np.datetime64(last, "D")
    )
    chosen = np.flatnonzero(in_currency & open_all)
    if not len(chosen):
        raise InvalidInput(
            "supply.no_stores",
            f"no store trades in {currency} through the whole window",
            field="currency",
        )
    return chosen, int((in_currency & ~open_all).sum())


def _prices(
    lake: Lake, history: History, *, engine: EngineName, currency: str, on: dt.date
) -> np.ndarray:
    """List price per product in ``currency`` valid on ``on`` (what a lost unit would have paid)."""
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        prices = reader.table("dwd", "product_prices")
        rows = reader.run(
            prices.filter((prices.currency == currency) & (prices.valid_from <= on)).select(
                "product_id", "valid_from", "price_minor"
            ),
            "prices",
        )
    rows = rows.sort_by([("valid_from", "ascending")])
    index = {str(p): i for i, p in enumerate(history.goods.product_ids)}
    price = np.zeros(len(index), dtype=np.int64)
    for product, value in zip(
        rows.column("product_id").to_pylist(), column_array(rows, "price_minor"), strict=True
    ):
        if str(product) in index:
            price[index[str(product)]] = int(value)
    return price


def _days(result: SimResult, goods: Goods) -> PolicyDays:
    core = result.daily.stock_out[:, :, goods.is_core]
    in_stock = 1.0 - core.mean(axis=(1, 2)) if core.size else np.ones(core.shape[0])
    # Waste valued at purchase cost: base units times pack cost over pack size, per day.
    waste = result.daily.waste.sum(axis=1) * goods.pack_cost_minor / goods.pack_size  # (D, M)
    return PolicyDays(
        in_stock_core=[round(float(v), 5) for v in in_stock],
        waste_cost_minor=[round(float(v)) for v in waste.sum(axis=1)],
    )


def _materials(result: SimResult, material_ids: np.ndarray) -> dict[str, dict[str, float]]:
    m = result.materials
    return {
        str(material): {
            "in_stock_rate": float(m.in_stock_rate[i]),
            "waste_cost_minor": float(m.waste_cost_minor[i]),
            "short_units": float(m.short_units[i]),
            "avg_inventory_value_minor": float(m.avg_inventory_value_minor[i]),
        }
        for i, material in enumerate(material_ids)
    }
