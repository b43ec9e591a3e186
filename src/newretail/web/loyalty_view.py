"""What the loyalty pages show, prepared for the templates: a scheme's name in the visitor's language,
its tier ladder with members per tier, its rules as sentences (thresholds and prices formatted in the
scheme's currency), and the bar charts' data as JSON (integers beside the exact text formatted here).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from newretail.loyalty.rules import TierRule
from newretail.loyalty.schemes import Scheme
from newretail.web.i18n import Language
from newretail.web.money import format_count, format_money, percent

Translate = Callable[..., str]


class Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def name_en(self) -> str: ...


def local_name(item: Named, language: Language) -> str:
    """A scheme's, tier's or template's name in the console's language (Chinese is the master)."""
    return item.name_en if language == "en" and item.name_en else item.name


@dataclass(frozen=True, slots=True)
class TierView:
    rule: TierRule
    name: str
    threshold: str
    members: int
    share: str


@dataclass(frozen=True, slots=True)
class SchemeView:
    scheme: Scheme
    name: str
    members: int
    tiers: list[TierView]


def scheme_views(
    schemes: Sequence[Scheme], counts: Mapping[tuple[str, str], int], t: Translate, lang: Language
) -> list[SchemeView]:
    views = []
    for scheme in schemes:
        per_tier = [counts.get((scheme.id, tier.id), 0) for tier in scheme.rules.tiers]
        total = sum(per_tier)
        tiers = [
            TierView(
                rule=tier,
                name=local_name(tier, lang),
                threshold=threshold_text(scheme, tier.threshold, t),
                members=members,
                share=t("loyalty.percent", value=percent(members, total)),
            )
            for tier, members in zip(scheme.rules.tiers, per_tier, strict=True)
        ]
        views.append(SchemeView(scheme, local_name(scheme, lang), total, tiers))
    return views


def threshold_text(scheme: Scheme, threshold: int, t: Translate) -> str:
    """A tier threshold in the scheme's tier metric: spend in its currency, or points."""
    if scheme.rules.tier_metric == "spend":
        return format_money(threshold, scheme.currency)
    return t("loyalty.points_value", points=format_count(threshold))


def members_chart(views: Sequence[SchemeView], t: Translate) -> str:
    """Members per tier: one bar per scheme and tier, the scheme's name under its tiers."""
    categories: list[str] = []
    points: list[dict[str, object]] = []
    for view in views:
        for tier in view.tiers:
            categories.append(f"{view.name} · {tier.name}")
            points.append(
                {
                    "value": tier.members,
                    "label": t("loyalty.members_count", count=format_count(tier.members)),
                }
            )
    return chart_json(categories, [(t("loyalty.kpi_members"), points)])


def chart_json(
    categories: Sequence[str], series: Sequence[tuple[str, list[dict[str, object]]]]
) -> str:
    """The data ``js/loyalty_chart.js`` draws: categories and named series of ``{value, label}``.

    "<" is escaped so that no name can close the ``<script>`` element the JSON sits in.
    """
    data = {
        "categories": list(categories),
        "series": [{"name": name, "data": values} for name, values in series],
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def percent_text(multiplier: int) -> str:
    """A multiplier in percent as the rules state it (150 -> "150%")."""
    return f"{multiplier}%"
