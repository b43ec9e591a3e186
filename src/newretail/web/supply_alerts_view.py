"""What the alerts page shows, prepared for its template: the filters read from the query, the alerts
grouped by severity, and each alert's figures written out as a sentence in the visitor's language
(quantities with their base unit, money in its currency) beside the raw figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from newretail.security import Permission, Principal
from newretail.supply.alerts import KINDS, SEVERITIES, STATUSES, StoredAlert
from newretail.web.money import format_money

Translate = Callable[..., str]
# "" lists the alerts still to act on: open and acknowledged.
STATUS_CHOICES = ("", *STATUSES)
UNRESOLVED = ("open", "acknowledged")
DEFINITIONS = (*KINDS, *SEVERITIES, "cover_days", "at_risk")
DONE = ("acknowledged",)
# Refusals the page words itself (supply_alerts.error_<name>); any other is "other".
ERRORS = ("alert_resolved", "alert_not_found", "other")
# The raw figures shown under each sentence, per kind, in this order.
FIGURES = {
    "stockout": ("on_hand", "in_transit", "daily_forecast", "cover_days", "lead_days"),
    "late_delivery": ("ordered_packs", "pack_size", "days_late"),
    "short_delivery": ("ordered_packs", "delivered_packs", "short_packs", "pack_size"),
    "expiring": ("on_hand", "expiring_quantity", "at_risk_quantity", "window_days"),
}


@dataclass(frozen=True, slots=True)
class Filters:
    kind: str = ""
    status: str = ""

    @classmethod
    def read(cls, kind: str, status: str) -> Filters:
        """The filters a visitor sent; an unknown kind or status shows everything unresolved."""
        return cls(kind if kind in KINDS else "", status if status in STATUSES else "")

    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else UNRESOLVED

    def query(self) -> str:
        return urlencode({k: v for k, v in (("kind", self.kind), ("status", self.status)) if v})


@dataclass(frozen=True, slots=True)
class AlertView:
    alert: StoredAlert
    place: str
    sentence: str
    figures: list[tuple[str, str]]
    can_acknowledge: bool


@dataclass(frozen=True, slots=True)
class SeverityGroup:
    severity: str
    alerts: list[AlertView]


def severity_groups(
    alerts: list[StoredAlert], viewer: Principal, t: Translate, tv: Translate
) -> list[SeverityGroup]:
    """The alerts by severity, most severe first; empty severities left out."""
    acknowledges = viewer.store_scope is not None or viewer.can(Permission.SUPPLY_WRITE)
    views = [
        AlertView(
            alert=a,
            place=t(f"supply_alerts.at_{a.location_type}", id=a.location_id),
            sentence=explain(a, t, tv),
            figures=[(k, _plain(a.numbers[k])) for k in FIGURES[a.kind] if k in a.numbers],
            can_acknowledge=acknowledges and a.status == "open",
        )
        for a in alerts
    ]
    grouped = [SeverityGroup(s, [v for v in views if v.alert.severity == s]) for s in SEVERITIES]
    return [g for g in grouped if g.alerts]


def explain(alert: StoredAlert, t: Translate, tv: Translate) -> str:
    """The alert's figures in a sentence (or two)."""
    n = alert.numbers
    unit = tv("supply_alerts.unit", n.get("unit", ""))

    def qty(key: str) -> str:
        return t("supply_alerts.quantity", amount=_plain(n[key]), unit=unit)

    if alert.kind == "stockout":
        tonight = _day_before(str(n["next_delivery_on"]))
        rescue = t(
            "supply_alerts.rescue_yes" if n["rescue_tonight"] else "supply_alerts.rescue_no",
            day=tonight,
        )
        return t(
            "supply_alerts.explain_stockout",
            on_hand=qty("on_hand"),
            in_transit=qty("in_transit"),
            next_delivery_on=n["next_delivery_on"],
            daily=qty("daily_forecast"),
            cover_days=n["cover_days"],
            stockout_on=n["stockout_on"],
            short=qty("short_quantity"),
            lead_days=n["lead_days"],
        ) + (" " + rescue)
    source = t(f"supply_alerts.from_{n.get('from_type', 'warehouse')}", id=n.get("from_id", ""))
    if alert.kind == "late_delivery":
        return t(
            "supply_alerts.explain_late_delivery",
            quantity=qty("ordered_quantity"),
            packs=n["ordered_packs"],
            source=source,
            orders=", ".join(n["po_ids"]),
            expected_on=n["expected_on"],
            days_late=n["days_late"],
        )
    if alert.kind == "short_delivery":
        return t(
            "supply_alerts.explain_short_delivery",
            source=source,
            delivered=n["delivered_packs"],
            ordered=n["ordered_packs"],
            orders=", ".join(n["po_ids"]),
            expected_on=n["expected_on"],
            short_packs=n["short_packs"],
            short=qty("short_quantity"),
        )
    cost = format_money(int(n["cost_minor"]), str(n["currency"] or "CNY"))
    values: dict[str, Any] = {
        "on_hand": qty("on_hand"),
        "expiring": qty("expiring_quantity"),
        "at_risk": qty("at_risk_quantity"),
        "expires_on": n["expires_on"],
        "window_days": n["window_days"],
        "cost": cost,
    }
    if "forecast_to_expiry" in n:
        return t("supply_alerts.explain_expiring", sold=qty("forecast_to_expiry"), **values)
    return t("supply_alerts.explain_expiring_no_forecast", **values)


def shown_error(code: str) -> str:
    """``supply.alert_resolved`` → ``alert_resolved``; a code the page does not word → ``other``."""
    name = code.removeprefix("supply.")
    return name if name in ERRORS else "other"


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _day_before(iso: str) -> str:
    return (dt.date.fromisoformat(iso) - dt.timedelta(days=1)).isoformat()
