"""Membership schemes in the console (``loyalty.read``): the list with members per tier and a chart of
them, and a scheme's page with its rules written out — the tier ladder with thresholds and
discounts, how points are earned and when they expire, wallet top-up bonuses, and a paid scheme's
price and monthly vouchers."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import NotFound
from newretail.loyalty.coupon_templates import list_templates
from newretail.loyalty.memberships import members_by_tier
from newretail.loyalty.schemes import get_scheme, list_schemes
from newretail.security import Permission
from newretail.web.audience_deps import gate
from newretail.web.deps import LanguageDep, OltpDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.loyalty_view import (
    local_name,
    members_chart,
    scheme_views,
)

router = APIRouter()
SchemeId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_]*$")]
# Figures of the scheme pages, each defined in the glossary (def.loyalty.<key>).
LIST_DEFINITIONS = ("members", "tier")
SCHEME_DEFINITIONS = (
    "members",
    "tier",
    "threshold",
    "discount",
    "multiplier",
    "earn_rate",
    "expiry",
    "topup_bonus",
    "max_balance",
    "paid_price",
    "vouchers",
)


@router.get("/loyalty/schemes", response_class=HTMLResponse)
def schemes_page(
    request: Request, language: LanguageDep, visitor: VisitorDep, oltp: OltpDep
) -> Response:
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="membership",
        permission=Permission.LOYALTY_READ,
    )
    if isinstance(show, Response):
        return show
    t = partial(translate, language)
    with oltp.connect() as conn:
        views = scheme_views(list_schemes(conn), members_by_tier(conn), t, language)
    return show(
        "schemes.html",
        schemes=views,
        chart_json=members_chart(views, t) if views else None,
        definitions=LIST_DEFINITIONS,
    )


@router.get("/loyalty/schemes/{scheme_id}", response_class=HTMLResponse)
def scheme_page(
    request: Request,
    scheme_id: SchemeId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
) -> Response:
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="membership",
        permission=Permission.LOYALTY_READ,
    )
    if isinstance(show, Response):
        return show
    t = partial(translate, language)
    try:
        with oltp.connect() as conn:
            scheme = get_scheme(conn, scheme_id)
            counts = members_by_tier(conn)
            templates = {template.id: template for template in list_templates(conn)}
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    view = scheme_views([scheme], counts, t, language)[0]
    vouchers = []
    if scheme.rules.paid is not None:
        for voucher in scheme.rules.paid.monthly_vouchers:
            known = templates.get(voucher.template_id)
            name = local_name(known, language) if known else None
            vouchers.append((voucher, name))
    return show(
        "scheme.html",
        view=view,
        rules=scheme.rules,
        vouchers=vouchers,
        chart_json=members_chart([view], t),
        definitions=SCHEME_DEFINITIONS,
    )
