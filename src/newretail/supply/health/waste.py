"""Waste by reason from DWD ``inventory_movements``: base units and their cost, per location ×
material × reason × day (the grain the cost is rounded at, so every grouping adds up)."""

from __future__ import annotations

import ibis.expr.types as ir

from newretail.supply.health.inputs import value_minor, week_of

WASTE_SCHEMA_COLUMNS = ("location_type", "location_id", "material_id", "reason")


def waste_facts(movements: ir.Table, materials: ir.Table) -> ir.Table:
    """Wasted base units (positive) and their cost in minor units, per location × material ×
    reason × day; a waste movement without a reason is ``unspecified``."""
    waste = movements.filter(movements.kind == "waste")
    daily = waste.group_by(
        [
            waste.location_type,
            waste.location_id,
            waste.material_id,
            waste.waste_reason.fill_null("unspecified").name("reason"),
            waste.business_date,
        ]
    ).aggregate(units=(-waste.quantity).sum().cast("int64"))
    costed = daily.join(materials, "material_id")
    return costed.select(
        *WASTE_SCHEMA_COLUMNS,
        "business_date",
        week=week_of(costed.business_date),
        units=costed.units,
        cost_minor=value_minor(costed.units, costed.pack_cost, costed.pack_size),
    )


def waste_lines(facts: ir.Table) -> ir.Table:
    """Per location × material × reason over the period."""
    return (
        facts.group_by(list(WASTE_SCHEMA_COLUMNS))
        .aggregate(
            units=facts.units.sum().cast("int64"), cost_minor=facts.cost_minor.sum().cast("int64")
        )
        .order_by(list(WASTE_SCHEMA_COLUMNS))
    )


def waste_by_key(facts: ir.Table, key: ir.Value) -> ir.Table:
    """Waste cost per group key and reason."""
    keyed = facts.mutate(key=key)
    return keyed.group_by(["key", "reason"]).aggregate(
        cost_minor=keyed.cost_minor.sum().cast("int64")
    )
