"""The overview page: the chain's KPIs over the last 30 days of data in the lake, within the visitor's
store scope, each figure linked to its definition."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newretail.metrics import Period, chain_overview, latest_business_date
from newretail.security import Permission
from newretail.web.deps import LakeDep, LakeEngineDep, LanguageDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.overview_view import build_view
from newretail.web.render import LOGIN_PATH, navigation, page, redirect

router = APIRouter()
DAYS = 30
DEFINITIONS = ("sales", "orders", "basket", "active_members")


@router.get("/", response_class=HTMLResponse)
def overview_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lake: LakeDep,
    engine: LakeEngineDep,
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="overview")
    principal = visitor.session.principal
    if not principal.can(Permission.METRICS_READ):
        # A role without the overview (a supplier) starts on the first area it may open.
        reachable = [item.href for item in navigation(principal) if item.href]
        if reachable:
            return redirect(reachable[0])
        return show("error.html", status=403, message="error.forbidden")
    last = latest_business_date(lake)
    if last is None:
        return show("overview.html", state="empty_lake")
    period = Period.ending(last, days=DAYS)
    scope = principal.store_scope
    current = chain_overview(lake, engine, period=period, stores=scope)
    if not current.totals:
        return show("overview.html", state="empty_scope", period=period, scope=scope)
    previous = chain_overview(lake, engine, period=period.previous(), stores=scope)
    view = build_view(current, previous, partial(translate, language))
    return show(
        "overview.html",
        state="ready",
        period=period,
        scope=scope,
        view=view,
        definitions=DEFINITIONS,
    )
