"""A simulation's daily ledger per day × store × material and its summary: in-stock rate, lost sales,
waste, inventory value and holding cost, orders, in total and per material.

"In stock": a store × day × material is in stock when the stock available that day (the opening
stock plus the morning's deliveries) covers the day's required quantity (true demand @ bom), i.e.
there was no stock-out. A day without demand for the material counts as in stock. Money is in
integer minor units: material figures are rounded half up from exact fractions (pack cost / pack
size per base unit); totals are sums of the per-material figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from newretail.supply.simulate.policies import Ints

if TYPE_CHECKING:
    from newretail.supply.simulate.engine import Scenario


@dataclass(frozen=True)
class Daily:
    """The ledger: (D, S, M) base units unless said otherwise; for every day and store × material
    closing = opening + receipts - consumption - waste."""

    opening: Ints
    receipts: Ints
    consumption: Ints
    waste: Ints  # expired lots at the close
    closing: Ints
    required: Ints  # what the day's true demand needed
    sold: Ints  # (D, S, P) product units served
    orders: Ints  # packs ordered at the close

    @classmethod
    def empty(cls, days: int, stores: int, materials: int, products: int) -> Daily:
        def zeros(last: int) -> Ints:
            return np.zeros((days, stores, last), dtype=np.int64)

        return cls(
            opening=zeros(materials),
            receipts=zeros(materials),
            consumption=zeros(materials),
            waste=zeros(materials),
            closing=zeros(materials),
            required=zeros(materials),
            sold=zeros(products),
            orders=zeros(materials),
        )

    @property
    def stock_out(self) -> NDArray[np.bool_]:
        """(D, S, M): the day's requirement exceeded the stock available that day."""
        return np.asarray(self.required > self.opening + self.receipts)


@dataclass(frozen=True)
class MaterialSummary:
    """Per material (M,): store-day counts, base units and minor units."""

    is_core: NDArray[np.bool_]
    in_stock_rate: NDArray[np.float64]  # share of store-days without a stock-out
    stock_out_days: Ints  # store-days with a stock-out
    short_units: Ints  # required but not consumed
    waste_units: Ints
    waste_cost_minor: Ints
    avg_inventory_value_minor: Ints  # mean over days of the closing stock's value, all stores
    holding_cost_minor: Ints
    orders_placed: Ints  # order lines: store-days with a positive order


@dataclass(frozen=True)
class SimSummary:
    """The headline figures; ``in_stock_rate_core`` is NaN when no material is core."""

    in_stock_rate_core: float  # share of store × day × core material in stock
    lost_units: int  # product units demanded but not sold
    lost_sales_minor: int
    waste_cost_minor: int
    waste_rate: float  # waste value / (consumption + waste) value
    avg_inventory_value_minor: int
    holding_cost_minor: int
    orders_placed: int


@dataclass(frozen=True)
class SimResult:
    daily: Daily
    lost: Ints  # (D, S, P) product units demanded but not sold
    summary: SimSummary
    materials: MaterialSummary


def _money(units: Ints, cost: Ints, sc: Scenario, *, times: int = 1, per: int = 1) -> Ints:
    """units * pack cost * times / (pack size * per) per material, rounded half up, exactly."""
    return np.array(
        [
            (2 * int(u) * int(c) * times + int(p) * per) // (2 * int(p) * per)
            for u, c, p in zip(units, cost, sc.pack_size, strict=True)
        ],
        dtype=np.int64,
    )


def summarise(sc: Scenario, daily: Daily) -> SimResult:
    n_days, n_stores = sc.demand.shape[:2]
    out = daily.stock_out
    stock_out_days = out.sum(axis=(0, 1))
    in_stock = 1.0 - stock_out_days / (n_days * n_stores)
    cost = sc.pack_cost_minor
    stock_units = daily.closing.sum(axis=(0, 1))
    avg_value = _money(stock_units, cost, sc, per=n_days)
    holding = _money(stock_units, cost, sc, times=sc.holding_bp_per_day, per=10_000)
    waste_units = daily.waste.sum(axis=(0, 1))
    waste_cost = _money(waste_units, cost, sc)
    used_value = _money(daily.consumption.sum(axis=(0, 1)), cost, sc)
    orders = (daily.orders > 0).sum(axis=(0, 1))
    materials = MaterialSummary(
        is_core=sc.is_core,
        in_stock_rate=in_stock,
        stock_out_days=stock_out_days,
        short_units=(daily.required - daily.consumption).sum(axis=(0, 1)),
        waste_units=waste_units,
        waste_cost_minor=waste_cost,
        avg_inventory_value_minor=avg_value,
        holding_cost_minor=holding,
        orders_placed=orders,
    )
    lost = sc.demand - daily.sold
    core = sc.is_core
    rate_core = float(1.0 - out[:, :, core].mean()) if core.any() else float("nan")
    moved = int(used_value.sum() + waste_cost.sum())
    summary = SimSummary(
        in_stock_rate_core=rate_core,
        lost_units=int(lost.sum()),
        lost_sales_minor=int((lost * sc.price_minor).sum()),
        waste_cost_minor=int(waste_cost.sum()),
        waste_rate=int(waste_cost.sum()) / moved if moved else 0.0,
        avg_inventory_value_minor=int(avg_value.sum()),
        holding_cost_minor=int(holding.sum()),
        orders_placed=int(orders.sum()),
    )
    return SimResult(daily=daily, lost=lost, summary=summary, materials=materials)
