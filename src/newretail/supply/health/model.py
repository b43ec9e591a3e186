"""What an inventory health report holds: one row per store, DC, material or week with the counts
each figure is a ratio of, so every figure can be checked and re-aggregated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import pyarrow as pa

GroupBy = Literal["store", "dc", "material", "week"]
GROUPINGS: tuple[GroupBy, ...] = get_args(GroupBy)
WASTE_REASONS = ("expiry", "damage", "quality", "prep", "unspecified")
# Age of stock since receipt, in whole days at the close of the report's last day.
AGE_BUCKETS = ("0-2", "3-7", "8-30", "31+")
AGE_BUCKET_DAYS = (2, 7, 30)


@dataclass(frozen=True)
class HealthRow:
    """The figures of one group (a store, a DC, a material, a week, or the whole chain).

    Counts and sums are kept so each figure is a plain ratio of them (see the package docstring for
    the definitions); a figure with nothing to divide by is None.
    """

    key: str
    stock_days: int  # location-days × core materials counted for the in-stock rate
    in_stock_days: int  # of those, without a stock-out
    stock_value_minor: int  # Σ over days of the closing stock's value
    usage_cost_minor: int  # Σ over days of the cost of what was used (consumed or shipped)
    materials_held: int  # location × material pairs with stock at some point
    materials_used: int  # of those, used at least once
    products_listed: int | None  # store × product pairs on the menu; None for DCs and materials
    products_sold: int | None  # of those, sold at least one unit
    waste_minor: Mapping[str, int]  # waste cost by reason
    aging_minor: tuple[int, ...] | None  # stock value at the close of the last day by age bucket

    @property
    def in_stock_rate(self) -> float | None:
        return self.in_stock_days / self.stock_days if self.stock_days else None

    @property
    def days_of_inventory(self) -> float | None:
        return self.stock_value_minor / self.usage_cost_minor if self.usage_cost_minor else None

    @property
    def material_sell_through(self) -> float | None:
        return self.materials_used / self.materials_held if self.materials_held else None

    @property
    def product_sell_through(self) -> float | None:
        if not self.products_listed or self.products_sold is None:
            return None
        return self.products_sold / self.products_listed

    @property
    def waste_total_minor(self) -> int:
        return sum(self.waste_minor.values())


@dataclass(frozen=True)
class HealthReport:
    """Inventory health over ``first`` .. ``last`` (inclusive) grouped by ``group_by``.

    ``rows`` are the groups, ``chain`` the whole chain (within the store filter), ``weeks`` and
    ``materials`` the chain week by week and material by material, whatever the grouping.
    ``waste`` (location × material × reason: units, cost) and ``aging`` (location × material: on
    hand and base units per age bucket at the close of ``last``) are the detail the rows sum.
    """

    first: dt.date
    last: dt.date
    group_by: GroupBy
    stores: frozenset[str] | None
    currency: str | None
    rows: tuple[HealthRow, ...]
    chain: HealthRow
    weeks: tuple[HealthRow, ...]
    materials: tuple[HealthRow, ...]
    waste: pa.Table
    aging: pa.Table

    def row(self, key: str) -> HealthRow | None:
        return next((r for r in self.rows if r.key == key), None)
