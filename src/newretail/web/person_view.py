"""The member 360 page's view: orders by channel with amounts formatted per currency, the chart's data
as JSON (integer minor units beside the exact text formatted here), consent per channel, which
merge-history rows get an Un-merge or a Re-merge button, and the person's tags grouped by category."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newretail.identity.profile import Member360
from newretail.tags.spec import CATEGORIES, TagSpec
from newretail.tags.values import TagValue
from newretail.web.i18n import Language
from newretail.web.money import exponent, format_count, format_money
from newretail.web.overview_view import CHANNEL_ORDER
from newretail.web.tag_view import format_value, tag_description, tag_name

Translate = Callable[..., str]
CONSENTS = ("sms", "email", "wechat", "push")


@dataclass(frozen=True, slots=True)
class PersonView:
    person: Member360
    chart_json: str
    consents: list[tuple[str, bool | None]]
    # Merge-history event id -> the button its row gets ("unmerge" or "remerge").
    actions: dict[int, str]


def build_view(person: Member360, t: Translate) -> PersonView:
    golden = person.golden
    return PersonView(
        person=person,
        chart_json=_chart_json(person.orders_by_channel, t),
        consents=[(c, golden.get(f"consent_{c}")) for c in CONSENTS],
        actions=merge_actions(person),
    )


def merge_actions(person: Member360) -> dict[int, str]:
    """A merge into this person not undone yet can be un-merged; an un-merge not undone yet can be
    undone (re-merged). Anything already undone shows who undid it instead."""
    actions: dict[int, str] = {}
    for event in person.merges:
        if event["undone_by"] is not None:
            continue
        if event["kind"] == "merge" and event["person_id"] == person.person_id:
            actions[event["id"]] = "unmerge"
        elif event["kind"] == "unmerge":
            actions[event["id"]] = "remerge"
    return actions


def _chart_json(rows: list[dict[str, Any]], t: Translate) -> str:
    """Orders per channel (all currencies together: a count) and paid per channel per currency (each
    currency its own series, never added up)."""
    seen = {r["channel"] for r in rows}
    channels = [c for c in CHANNEL_ORDER if c in seen] + sorted(seen - set(CHANNEL_ORDER))
    currencies = sorted({r["currency"] for r in rows})
    orders = []
    for channel in channels:
        count = sum(r["orders"] for r in rows if r["channel"] == channel)
        orders.append({"value": count, "label": t("chart.orders", count=format_count(count))})
    paid: dict[str, list[dict[str, object]]] = {}
    for currency in currencies:
        points: list[dict[str, object]] = []
        for channel in channels:
            minor = sum(
                int(r["paid_minor"] or 0)
                for r in rows
                if r["channel"] == channel and r["currency"] == currency
            )
            points.append({"value": minor, "label": format_money(minor, currency)})
        paid[currency] = points
    data = {
        "channels": [t(f"channel.{c}") if c in CHANNEL_ORDER else c for c in channels],
        "orders_name": t("person.chart_orders"),
        "orders": orders,
        "currencies": [
            {"code": c, "exponent": exponent(c), "name": t("person.chart_paid", currency=c)}
            for c in currencies
        ],
        "paid": paid,
    }
    # "<" is escaped so no value can close the <script> element the JSON sits in.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@dataclass(frozen=True, slots=True)
class TagItem:
    spec: TagSpec
    name: str
    description: str
    value: str


@dataclass(frozen=True, slots=True)
class TagGroup:
    """One category's tags that have a value for the person; ``missing`` counts those without."""

    category: str
    items: list[TagItem]
    missing: int


def tag_groups(values: list[tuple[TagSpec, TagValue]], language: Language) -> list[TagGroup]:
    """The person's tag values by category, in catalogue order; amounts in minor units are shown in
    the person's own currency (the ``currency`` tag) when it is known."""
    currency = next((v for s, v in values if s.id == "currency" and isinstance(v, str)), None)
    groups = []
    for category in CATEGORIES:
        mine = [(spec, value) for spec, value in values if spec.category == category]
        items = [
            TagItem(
                spec=spec,
                name=tag_name(spec, language),
                description=tag_description(spec, language),
                value=format_value(language, spec, value, currency=currency),
            )
            for spec, value in mine
            if value is not None
        ]
        if mine:
            groups.append(TagGroup(category, items, len(mine) - len(items)))
    return groups
