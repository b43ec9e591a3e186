"""What the simulation page shows, prepared for its template: each policy's figures as text in the
report's currency, whether it meets the issue's target against the baseline, the per-day charts'
data, and one policy's figures per material."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from newretail.supply.simulate.compare import ComparisonRow
from newretail.supply.simulate.run import BASELINE
from newretail.supply.simulate.views import SavedSimulation
from newretail.web.money import exponent, format_count, format_money

Translate = Callable[..., str]
# Figures of the page, each defined in the glossary (def.supply_sim.<key>).
DEFINITIONS = (
    "in_stock_core",
    "lost_sales",
    "lost_units",
    "waste_cost",
    "waste_vs_baseline",
    "avg_stock",
    "holding_cost",
    "orders",
    "target",
    "material_in_stock",
    "short_units",
)
TARGET_IN_STOCK = 0.98
TARGET_WASTE_CUT = -0.30
_FORECAST = "forecast_"


def policy_label(policy: str, t: Translate, *, short: bool = False) -> str:
    """``order_up_to_last_week`` and ``forecast_<level>`` in words (``short`` for chart legends);
    any other name as it is."""
    kind = "short" if short else "policy"
    if policy.startswith(_FORECAST):
        try:
            level = float(policy.removeprefix(_FORECAST))
        except ValueError:
            return policy
        return t(f"supply_sim.{kind}_forecast", level=f"{level:.1%}")
    return t(f"supply_sim.{kind}_{policy}") if policy == BASELINE else policy


def meets_target(row: ComparisonRow, baseline: ComparisonRow) -> bool | None:
    """The issue's target: core in stock on at least 98% of store-days, at least 30% less waste
    than the baseline and an in-stock rate no worse than its; None for the baseline itself."""
    if row.policy == baseline.policy or row.waste_vs_first is None:
        return None
    return (
        row.in_stock_rate_core >= TARGET_IN_STOCK
        and row.waste_vs_first <= TARGET_WASTE_CUT
        and row.in_stock_rate_core >= baseline.in_stock_rate_core
    )


@dataclass(frozen=True, slots=True)
class PolicyLine:
    row: ComparisonRow
    label: str
    figures: dict[str, str]  # definition key -> text
    target: bool | None


def policy_lines(saved: SavedSimulation, t: Translate) -> list[PolicyLine]:
    report = saved.report
    money = _money(report.currency)
    baseline = report.rows[0]
    return [
        PolicyLine(
            row=row,
            label=policy_label(row.policy, t),
            figures={
                "in_stock_core": f"{row.in_stock_rate_core:.2%}",
                "lost_sales": money(row.lost_sales_minor),
                "lost_units": format_count(row.lost_units),
                "waste_cost": money(row.waste_cost_minor),
                "waste_vs_baseline": "—"
                if row.waste_vs_first is None
                else f"{row.waste_vs_first:+.1%}",
                "avg_stock": money(row.avg_inventory_value_minor),
                "holding_cost": money(row.holding_cost_minor),
                "orders": format_count(row.orders_placed),
            },
            target=meets_target(row, baseline),
        )
        for row in report.rows
    ]


@dataclass(frozen=True, slots=True)
class MaterialLine:
    material_id: str
    name: str
    figures: dict[str, str]


def material_lines(
    saved: SavedSimulation,
    policy: str,
    names: Mapping[str, tuple[str, str, bool]],
    t: Translate,
) -> list[MaterialLine]:
    """``policy``'s figures per material, by material id; short units in the material's base unit
    (its short name from ``supply_forecast.unit_<unit>``)."""
    money = _money(saved.report.currency)
    lines = []
    for material, figures in sorted(saved.report.materials.get(policy, {}).items()):
        name, unit, _ = names.get(material, (material, "", False))
        short = t(f"supply_forecast.unit_{unit}") if unit else ""
        lines.append(
            MaterialLine(
                material_id=material,
                name=name,
                figures={
                    "material_in_stock": f"{figures['in_stock_rate']:.2%}",
                    "waste_cost": money(round(figures["waste_cost_minor"])),
                    "short_units": f"{figures['short_units']:,.0f} {short}".rstrip(),
                    "avg_stock": money(round(figures["avg_inventory_value_minor"])),
                },
            )
        )
    return lines


def charts(saved: SavedSimulation, t: Translate) -> dict[str, Any]:
    """Core in-stock rate per day (lines) and waste cost per day (bars), one series per policy."""
    report = saved.report
    money = _money(report.currency)
    dates = [d.isoformat() for d in saved.dates()]
    scale = 10 ** exponent(report.currency)
    in_stock, waste = [], []
    for row in report.rows:
        days = report.days[row.policy]
        name = policy_label(row.policy, t, short=True)
        in_stock.append(
            {"name": name, "data": [{"value": v, "label": f"{v:.2%}"} for v in days.in_stock_core]}
        )
        waste.append(
            {
                "name": name,
                # Major units on the axis, the exact amount in the tooltip.
                "data": [{"value": v / scale, "label": money(v)} for v in days.waste_cost_minor],
            }
        )
    return {
        "in_stock": {"kind": "lines", "dates": dates, "percent": True, "series": in_stock},
        "waste": {"kind": "bars", "dates": dates, "series": waste},
    }


def _money(currency: str) -> Callable[[int], str]:
    return lambda minor: format_money(minor, currency)
