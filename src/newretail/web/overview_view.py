"""The overview page's view: KPI cards and chart data from the metrics, formatted per currency and
translated. Amounts go to the browser as integer minor units with the exact text beside them, so the
charts plot numbers and every label a reader sees was formatted here with Decimal."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from newretail.metrics import Overview
from newretail.model.dws import CHANNEL_FAMILIES
from newretail.web.money import change, exponent, format_count, format_money, percent

Translate = Callable[..., str]
CHANNEL_ORDER = tuple(channel for family in CHANNEL_FAMILIES.values() for channel in family)


@dataclass(frozen=True, slots=True)
class Figure:
    text: str
    unit: str | None = None
    change: Decimal | None = None

    @property
    def trend(self) -> str:
        if self.change is None or self.change == 0:
            return "flat"
        return "up" if self.change > 0 else "down"


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    figures: list[Figure]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OverviewView:
    kpis: list[Kpi]
    currencies: list[str]
    chart_json: str


def build_view(current: Overview, previous: Overview | None, t: Translate) -> OverviewView:
    currencies = sorted(total.currency for total in current.totals)
    return OverviewView(
        kpis=_kpis(current, previous, currencies),
        currencies=currencies,
        chart_json=_chart_json(current, currencies, t),
    )


def _kpis(current: Overview, previous: Overview | None, currencies: list[str]) -> list[Kpi]:
    sales, baskets = [], []
    for currency in currencies:
        now = current.total(currency)
        before = previous.total(currency) if previous else None
        assert now is not None
        sales.append(
            Figure(
                format_money(now.paid_minor, currency),
                currency,
                change(now.paid_minor, before.paid_minor if before else None),
            )
        )
        if now.basket_minor is not None:
            old = before.basket_minor if before else None
            baskets.append(
                Figure(
                    format_money(now.basket_minor, currency),
                    currency,
                    change(now.basket_minor, old),
                )
            )
    split = " · ".join(f"{total.currency} {format_count(total.orders)}" for total in current.totals)
    before_orders = previous.orders if previous else None
    before_members = previous.active_members if previous else None
    return [
        Kpi("sales", sales),
        Kpi(
            "orders",
            [Figure(format_count(current.orders), None, change(current.orders, before_orders))],
            split,
        ),
        Kpi("basket", baskets),
        Kpi(
            "active_members",
            [
                Figure(
                    format_count(current.active_members),
                    None,
                    change(current.active_members, before_members),
                )
            ],
        ),
    ]


def _chart_json(current: Overview, currencies: list[str], t: Translate) -> str:
    dates = current.period.dates()
    daily = {(day.business_date, day.currency): day for day in current.trend}
    trend = {}
    for currency in currencies:
        points = []
        for date in dates:
            day = daily.get((date, currency))
            paid, orders = (day.paid_minor, day.orders) if day else (0, 0)
            label = (
                f"{format_money(paid, currency)} · {t('chart.orders', count=format_count(orders))}"
            )
            points.append({"value": paid, "label": label})
        trend[currency] = points
    seen = {c.channel for c in current.channels}
    channels = [c for c in CHANNEL_ORDER if c in seen] + sorted(seen - set(CHANNEL_ORDER))
    by_key = {(c.channel, c.currency): c for c in current.channels}
    shares: dict[str, list[dict[str, object]]] = {}
    for currency in currencies:
        total = current.total(currency)
        whole = total.paid_minor if total else 0
        bars: list[dict[str, object]] = []
        for channel in channels:
            row = by_key.get((channel, currency))
            paid, orders = (row.paid_minor, row.orders) if row else (0, 0)
            share = percent(paid, whole)
            label = (
                f"{format_money(paid, currency)} · {t('chart.orders', count=format_count(orders))}"
                f" · {share}%"
            )
            bars.append({"value": float(share), "label": label})
        shares[currency] = bars
    data = {
        "dates": [d.isoformat() for d in dates],
        "currencies": [
            {"code": c, "exponent": exponent(c), "name": t("chart.sales_in", currency=c)}
            for c in currencies
        ],
        "trend": trend,
        "channels": [t(f"channel.{c}") for c in channels],
        "shares": shares,
    }
    # "<" is escaped so no value can close the <script> element the JSON sits in.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
