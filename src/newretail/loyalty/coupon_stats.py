"""Per-template coupon counts and cost, for the console's template list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select

from newretail.oltp.tables import coupon_templates, coupons


@dataclass(frozen=True, slots=True)
class TemplateStats:
    """``issued`` counts every coupon ever issued (whatever became of it); ``outstanding`` those
    still held unused; ``cost_minor`` the discounts given by redeemed ones, in ``currency``."""

    template_id: str
    name: str
    name_en: str
    currency: str
    status: str
    budget_total: int | None
    issued: int
    outstanding: int
    redeemed: int
    expired: int
    revoked: int
    cost_minor: int


def template_stats(conn: Connection) -> list[TemplateStats]:
    """One row per template (those without coupons too), by template id."""
    status = coupons.c.status
    query = (
        select(
            coupon_templates.c.id.label("template_id"),
            coupon_templates.c.name,
            coupon_templates.c.name_en,
            coupon_templates.c.currency,
            coupon_templates.c.status,
            coupon_templates.c.budget_total,
            func.count(coupons.c.id).label("issued"),
            _count(status == "issued").label("outstanding"),
            _count(status == "redeemed").label("redeemed"),
            _count(status == "expired").label("expired"),
            _count(status == "revoked").label("revoked"),
            func.coalesce(
                func.sum(case((status == "redeemed", coupons.c.discount_minor), else_=0)), 0
            ).label("cost_minor"),
        )
        .select_from(
            coupon_templates.outerjoin(coupons, coupons.c.template_id == coupon_templates.c.id)
        )
        .group_by(coupon_templates.c.id)
        .order_by(coupon_templates.c.id)
    )
    return [
        TemplateStats(**{key: _plain(value) for key, value in row._mapping.items()})
        for row in conn.execute(query)
    ]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _plain(value: Any) -> Any:
    # PostgreSQL sums into NUMERIC (a Decimal): hand back plain integers.
    return int(value) if isinstance(value, Decimal) else value
