"""In-stock rate, days of inventory and material sell-through from DWS ``store_material_day``: one
row of facts per location × material × day, summed per location × material, then per group."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from newretail.supply.health.inputs import value_minor, week_of

CELL = ("location_type", "location_id", "material_id")


def day_facts(smd: ir.Table, materials: ir.Table) -> ir.Table:
    """Per location × material × day: whether it counts for the in-stock rate and was in stock, the
    closing stock's value and the cost of the day's use, whether stock was held and used.

    A store's use is its consumption; a DC's is what it shipped out (to stores). A store-day counts
    for the in-stock rate only when the store traded (some material was needed by that day's
    sales); a DC counts every day it has the material on its books. Days without a known closing
    stock count towards neither side of days of inventory.
    """
    joined = smd.join(materials, "material_id")
    day = joined.mutate(
        day_demand=joined.bom_demand.fill_null(0)
        .sum()
        .over(group_by=[joined.location_type, joined.location_id, joined.business_date])
    )
    store = day.location_type == "store"
    usage = store.ifelse(-day.consumption.fill_null(0), -day.transfers_out.fill_null(0))
    counted = day.is_core & (~store | (day.day_demand > 0))
    known = day.closing_on_hand.notnull()
    # A book figure below zero (movements with no count) is no stock, not negative value.
    closing = ibis.greatest(day.closing_on_hand.fill_null(0), 0)
    inflow = day.receipts.fill_null(0) + day.transfers_in.fill_null(0)
    held = (ibis.greatest(day.opening_on_hand.fill_null(0), inflow, closing) > 0) | (usage > 0)
    return day.select(
        *CELL,
        "business_date",
        week=week_of(day.business_date),
        store=store,
        stock_day=counted.cast("int64"),
        in_stock_day=(counted & ~day.stock_out.fill_null(False)).cast("int64"),
        stock_value=known.ifelse(value_minor(closing, day.pack_cost, day.pack_size), 0),
        usage_cost=known.ifelse(value_minor(usage, day.pack_cost, day.pack_size), 0),
        held=held.cast("int64"),
        used=(usage > 0).cast("int64"),
    )


def group_figures(facts: ir.Table, key: ir.Value, *, network: bool) -> ir.Table:
    """The stock figures per ``key`` (a column expression of ``facts``).

    ``network`` groups (a material, a week, the chain) count the in-stock rate and sell-through
    over stores only, and set all stock (stores and DCs) against what stores consumed; a store's
    or DC's own group sets its stock against its own use.
    """
    keyed = facts.mutate(key=key)
    cells = keyed.group_by(["key", *CELL]).aggregate(
        store=keyed.store.max(),
        stock_days=keyed.stock_day.sum(),
        in_stock_days=keyed.in_stock_day.sum(),
        stock_value=keyed.stock_value.sum(),
        usage_cost=keyed.usage_cost.sum(),
        held=keyed.held.max(),
        used=keyed.used.max(),
    )
    counts = cells.store if network else ibis.literal(True)
    return cells.group_by("key").aggregate(
        stock_days=counts.ifelse(cells.stock_days, 0).sum().cast("int64"),
        in_stock_days=counts.ifelse(cells.in_stock_days, 0).sum().cast("int64"),
        stock_value_minor=cells.stock_value.sum().cast("int64"),
        usage_cost_minor=counts.ifelse(cells.usage_cost, 0).sum().cast("int64"),
        materials_held=counts.ifelse(cells.held, 0).sum().cast("int64"),
        materials_used=counts.ifelse(cells.held * cells.used, 0).sum().cast("int64"),
    )
