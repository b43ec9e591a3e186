"""Supply alerts in the console (``supply.read``): the alerts still to act on, grouped by severity,
each with its figures explained in words, filtered by kind and status; a store manager sees its
stores' alerts only. Acknowledging (a store manager its stores', a planner any) is a CSRF-checked
form answered with a redirect back to the page, whose notice then says what happened."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, NewRetailError
from newretail.security import Permission
from newretail.supply.alerts import KINDS, acknowledge_alert, list_alerts
from newretail.web.audience_deps import gate
from newretail.web.deps import LanguageDep, NowDep, OltpDep, VisitorDep
from newretail.web.i18n import translate, translate_value
from newretail.web.render import LOGIN_PATH, redirect, refuse_bad_csrf, safe_next
from newretail.web.supply_alerts_view import (
    DEFINITIONS,
    DONE,
    STATUS_CHOICES,
    Filters,
    severity_groups,
    shown_error,
)

router = APIRouter()
PAGE_PATH = "/console/supply/alerts"
SHOWN = 300
AlertId = Annotated[int, Path(ge=1)]


@router.get("/supply/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    kind: str = "",
    status: str = "",
    done: str = "",
    error: str = "",
) -> Response:
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="supply",
        permission=Permission.SUPPLY_READ,
    )
    if isinstance(show, Response):
        return show
    assert visitor is not None
    viewer = visitor.session.principal
    filters = Filters.read(kind, status)
    with oltp.connect() as conn:
        found = list_alerts(
            conn, viewer, kind=filters.kind or None, statuses=filters.statuses(), limit=SHOWN
        )
    t, tv = partial(translate, language), partial(translate_value, language)
    here = f"{PAGE_PATH}?{filters.query()}" if filters.query() else PAGE_PATH
    return show(
        "supply_alerts.html",
        groups=severity_groups(found.data, viewer, t, tv),
        shown=len(found.data),
        count=found.count,
        filters=filters,
        kinds=KINDS,
        statuses=STATUS_CHOICES,
        scoped=viewer.store_scope is not None,
        here=here,
        done=done if done in DONE else None,
        error=shown_error(error) if error else None,
        definitions=DEFINITIONS,
    )


@router.post("/supply/alerts/{alert_id}/acknowledge")
def acknowledge_submit(
    request: Request,
    alert_id: AlertId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    back: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="supply",
        permission=Permission.SUPPLY_READ,
    )
    if isinstance(show, Response):
        return show
    outcome = "done=acknowledged"
    try:
        with oltp.begin() as conn:
            acknowledge_alert(conn, alert_id, actor=visitor.session.principal, now=now)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NewRetailError as refusal:
        outcome = f"error={refusal.code}"
    target = safe_next(back) if back.startswith(PAGE_PATH) else PAGE_PATH
    separator = "&" if "?" in target else "?"
    return redirect(f"{target}{separator}{outcome}")
