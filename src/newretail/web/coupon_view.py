"""What the coupon pages show, prepared for the templates: a template's benefit, validity and scope as
sentences (amounts in the template's own currency), its counts with the redemption rate and cost, the
cost summed per currency (never across currencies), and the chart's data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newretail.loyalty.coupon_stats import TemplateStats
from newretail.loyalty.coupon_templates import CouponTemplate
from newretail.web.i18n import Language
from newretail.web.loyalty_view import chart_json, local_name
from newretail.web.money import format_count, format_money, percent
from newretail.web.render import when

Translate = Callable[..., str]
# Each figure of the coupon pages with a definition in the glossary (def.coupon.<key>).
DEFINITIONS = ("issued", "redeemed", "expired", "revoked", "outstanding", "rate", "cost", "budget")
COUNTS = ("issued", "redeemed", "expired", "revoked")


@dataclass(frozen=True, slots=True)
class TemplateRow:
    template: CouponTemplate
    stats: TemplateStats
    name: str
    benefit: str
    rate: str
    cost: str


def benefit(template: CouponTemplate, t: Translate) -> str:
    """What the coupon gives, e.g. "¥10.00 off orders of ¥30.00 or more"."""

    def money(minor: int | None) -> str:
        return format_money(minor or 0, template.currency)

    if template.kind == "amount_off":
        if template.threshold_minor:
            return t(
                "coupon.benefit_amount_off_threshold",
                amount=money(template.amount_off_minor),
                threshold=money(template.threshold_minor),
            )
        return t("coupon.benefit_amount_off", amount=money(template.amount_off_minor))
    if template.kind == "percent_off":
        if template.cap_minor:
            return t(
                "coupon.benefit_percent_off_cap",
                percent=template.percent_off,
                cap=money(template.cap_minor),
            )
        return t("coupon.benefit_percent_off", percent=template.percent_off)
    if template.kind == "free_item":
        if template.target_product_id:
            return t("coupon.benefit_free_product", product=template.target_product_id)
        return t("coupon.benefit_free_category", category=template.target_category)
    return t("coupon.benefit_size_upgrade")


def validity(template: CouponTemplate, t: Translate) -> str:
    """When a coupon of the template may be used: a window, days from issue, or both."""
    parts = []
    if template.valid_from is not None or template.valid_until is not None:
        parts.append(
            t(
                "coupon.validity_window",
                start=when(template.valid_from) if template.valid_from else "—",
                end=when(template.valid_until),
            )
        )
    if template.valid_days is not None:
        parts.append(t("coupon.validity_days", days=template.valid_days))
    return " · ".join(parts)


def scope(template: CouponTemplate, t: Translate, tv: Translate) -> list[str]:
    """Where the coupon applies, one phrase per restriction; "anywhere" when there is none."""
    s = template.scope
    parts = []
    if s.channels:
        names = ", ".join(tv("channel", channel) for channel in s.channels)
        parts.append(t("coupon.scope_channels", items=names))
    for key, items in (
        ("stores", s.stores),
        ("products", s.products),
        ("categories", s.categories),
    ):
        if items:
            parts.append(t(f"coupon.scope_{key}", items=", ".join(items)))
    return parts or [t("coupon.scope_anywhere")]


def rows(
    templates: Sequence[CouponTemplate],
    stats: Sequence[TemplateStats],
    t: Translate,
    language: Language,
) -> list[TemplateRow]:
    by_id = {row.template_id: row for row in stats}
    out = []
    for template in templates:
        figures = by_id.get(template.id) or _no_coupons(template)
        out.append(
            TemplateRow(
                template=template,
                stats=figures,
                name=local_name(template, language),
                benefit=benefit(template, t),
                rate=(
                    t("loyalty.percent", value=percent(figures.redeemed, figures.issued))
                    if figures.issued
                    else "—"
                ),
                cost=format_money(figures.cost_minor, template.currency),
            )
        )
    return out


def cost_by_currency(rows_: Sequence[TemplateRow]) -> list[tuple[str, str]]:
    """Total cost per currency, formatted; currencies are never added together."""
    totals: dict[str, int] = {}
    for row in rows_:
        currency = row.template.currency
        totals[currency] = totals.get(currency, 0) + row.stats.cost_minor
    return [(currency, format_money(total, currency)) for currency, total in sorted(totals.items())]


def coupons_chart(rows_: Sequence[TemplateRow], t: Translate) -> str:
    """Issued, redeemed, expired and revoked coupons per template, as grouped bars."""
    series = []
    for key in COUNTS:
        points: list[dict[str, object]] = []
        for row in rows_:
            count = int(getattr(row.stats, key))
            points.append({"value": count, "label": format_count(count)})
        series.append((t(f"coupon.kpi_{key}"), points))
    return chart_json([row.name for row in rows_], series)


def _no_coupons(template: CouponTemplate) -> TemplateStats:
    return TemplateStats(
        template_id=template.id,
        name=template.name,
        name_en=template.name_en,
        currency=template.currency,
        status=template.status,
        budget_total=template.budget_total,
        issued=0,
        outstanding=0,
        redeemed=0,
        expired=0,
        revoked=0,
        cost_minor=0,
    )
