"""Inventory health (G8): in-stock rate, days of inventory, sell-through, aging and waste by reason,
per store, DC, material and week, from the lake's DWS ``store_material_day`` and DWD movements.

Definitions (a period is ``first`` .. ``last``, both included; money in the materials' currency,
integer minor units; a base unit is worth ``pack_cost_minor / pack_size``, rounded half up per
location × material × day):

- **In-stock rate of core materials**: of the location-days × core materials counted, the share
  without a stock-out (``stock_out``: closing stock at or below zero, or less consumed than the
  day's sales needed by the bill of materials). A store-day is counted only when the store traded
  (its sales needed some material that day); a DC counts every day the material is on its books.
- **Days of inventory**: the value of closing stock summed over the days, divided by the cost of
  what was used over the same days (days without a known closing stock left out of both). For one
  location × material this is average closing on hand ÷ average daily use. A store uses what it
  consumes, a DC what it ships out; a material's, a week's and the chain's figure set the whole
  network's stock (stores and DCs) against what stores consumed.
- **Material sell-through**: of the location × material pairs that held stock at some point in
  the period (opening, receipts or closing above zero), the share used at least once.
- **Product sell-through (动销率)**: of the store × product pairs on the menu (store open and
  product listed on at least one day of the window), the share that sold at least one unit. Only
  for stores, weeks and the chain: DCs and materials sell no products.
- **Aging**: stock on hand at the close of ``last`` by days since receipt (0-2, 3-7, 8-30, 31+),
  first in, first out: the newest receipts and transfers in make up what is on hand.
- **Waste by reason**: wasted base units and their cost per reason (expiry, damage, quality, prep).

Store, material, week and chain groups count stores only for the in-stock rate and sell-through;
a store filter leaves out DCs altogether.
"""

from newretail.supply.health.model import (
    AGE_BUCKETS,
    GROUPINGS,
    WASTE_REASONS,
    GroupBy,
    HealthReport,
    HealthRow,
)
from newretail.supply.health.report import inventory_health

__all__ = [
    "AGE_BUCKETS",
    "GROUPINGS",
    "WASTE_REASONS",
    "GroupBy",
    "HealthReport",
    "HealthRow",
    "inventory_health",
]
