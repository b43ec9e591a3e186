"""The inventory health page's view: KPI cards for the chain, a table row per group and the charts'
data, every figure formatted here (percentages to one decimal, days to one decimal, money exactly
from minor units) so the browser only plots numbers and shows the server's text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newretail.supply.health import AGE_BUCKETS, WASTE_REASONS, HealthReport, HealthRow
from newretail.web.money import exponent, format_count, format_money

Translate = Callable[..., str]
# The figures the page shows, each with a definition (def.supply_health.<key>).
DEFINITIONS = (
    "in_stock_rate",
    "days_of_inventory",
    "material_sell_through",
    "product_sell_through",
    "aging",
    "waste",
)
COLUMNS = ("in_stock_rate", "days_of_inventory", "material_sell_through", "product_sell_through")
ERRORS = ("bad_period", "unknown_store", "bad_group_by", "bad_date")


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    text: str
    note: str


@dataclass(frozen=True, slots=True)
class Line:
    """One group in the table: its key and the text of each figure."""

    key: str
    figures: dict[str, str]
    waste: str
    aged: str


@dataclass(frozen=True, slots=True)
class HealthView:
    kpis: list[Figure]
    lines: list[Line]
    charts: dict[str, Any]


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def days(value: float | None, t: Translate) -> str:
    return "—" if value is None else t("supply_health.days", days=f"{value:.1f}")


def build_view(report: HealthReport, t: Translate) -> HealthView:
    money = _money(report.currency)
    chain = report.chain
    kpis = [
        Figure(
            "in_stock_rate",
            rate(chain.in_stock_rate),
            t(
                "supply_health.of_days",
                days=format_count(chain.in_stock_days),
                total=format_count(chain.stock_days),
            ),
        ),
        Figure(
            "days_of_inventory",
            days(chain.days_of_inventory, t),
            t("supply_health.network_note"),
        ),
        Figure(
            "material_sell_through",
            rate(chain.material_sell_through),
            t(
                "supply_health.of_pairs",
                used=format_count(chain.materials_used),
                held=format_count(chain.materials_held),
            ),
        ),
        Figure(
            "product_sell_through",
            rate(chain.product_sell_through),
            t(
                "supply_health.of_products",
                sold=format_count(chain.products_sold or 0),
                listed=format_count(chain.products_listed or 0),
            ),
        ),
        Figure("waste", money(chain.waste_total_minor), _reasons(chain, money, t)),
    ]
    lines = [
        Line(
            key=row.key,
            figures={
                "in_stock_rate": rate(row.in_stock_rate),
                "days_of_inventory": days(row.days_of_inventory, t),
                "material_sell_through": rate(row.material_sell_through),
                "product_sell_through": rate(row.product_sell_through),
            },
            waste=money(row.waste_total_minor),
            aged="—" if row.aging_minor is None else money(sum(row.aging_minor)),
        )
        for row in report.rows
    ]
    return HealthView(kpis, lines, _charts(report, money, t))


def _money(currency: str | None) -> Callable[[int], str]:
    if currency is None:
        return format_count
    return lambda minor: format_money(minor, currency)


def _reasons(row: HealthRow, money: Callable[[int], str], t: Translate) -> str:
    parts = [
        f"{t('supply_health.reason_' + reason)} {money(row.waste_minor[reason])}"
        for reason in WASTE_REASONS
        if row.waste_minor.get(reason)
    ]
    return " · ".join(parts) or t("supply_health.no_waste")


def _charts(report: HealthReport, money: Callable[[int], str], t: Translate) -> dict[str, Any]:
    scale = 10 ** exponent(report.currency) if report.currency else 1
    weeks = [w.key for w in report.weeks]
    in_stock = {
        "kind": "lines",
        "percent": True,
        "categories": weeks,
        "series": [
            {
                "name": t("supply_health.term_in_stock_rate"),
                "data": [
                    {
                        "value": w.in_stock_rate,
                        "label": f"{rate(w.in_stock_rate)} ({w.in_stock_days}/{w.stock_days})",
                    }
                    for w in report.weeks
                ],
            }
        ],
    }
    cover = {
        "kind": "bars",
        "categories": [m.key for m in report.materials],
        "series": [
            {
                "name": t("supply_health.term_days_of_inventory"),
                "data": [
                    {"value": m.days_of_inventory, "label": days(m.days_of_inventory, t)}
                    for m in report.materials
                ],
            }
        ],
    }
    reasons = [r for r in WASTE_REASONS if any(w.waste_minor.get(r) for w in report.weeks)]
    waste = {
        "kind": "bars",
        "stack": True,
        "categories": weeks,
        "series": [
            {
                "name": t("supply_health.reason_" + reason),
                "data": [
                    {
                        "value": w.waste_minor.get(reason, 0) / scale,
                        "label": money(w.waste_minor.get(reason, 0)),
                    }
                    for w in report.weeks
                ],
            }
            for reason in reasons
        ],
    }
    aged = report.chain.aging_minor or (0,) * len(AGE_BUCKETS)
    aging = {
        "kind": "bars",
        "categories": [
            t("supply_health.age_" + b.replace("+", "_plus").replace("-", "_")) for b in AGE_BUCKETS
        ],
        "series": [
            {
                "name": t("supply_health.term_aging"),
                "data": [{"value": v / scale, "label": money(v)} for v in aged],
            }
        ],
    }
    return {"in_stock": in_stock, "cover": cover, "waste": waste, "aging": aging}
