"""Rendering a console page: the Jinja2 environment and its filters, the navigation, the context every
template gets (language, ``t``, ``tv``, the visitor, the CSRF token), the headers every page is sent
with, and the CSRF check of signed-in forms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from newretail.errors import Forbidden
from newretail.security import Permission, Principal, check_csrf
from newretail.web.deps import Visitor
from newretail.web.i18n import Language, translate, translate_value
from newretail.web.money import format_money

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def when(value: dt.date | None) -> str:
    """A time as the console shows it, in UTC to the minute; a date as is; "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


templates.env.filters["money"] = format_money
templates.env.filters["when"] = when

LOGIN_PATH = "/console/login"
HOME_PATH = "/console/"

# Everything the page loads comes from this server: no CDN, no fonts or analytics from elsewhere.
# ECharts and htmx set inline styles, hence 'unsafe-inline' for styles (never for scripts).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class NavItem:
    """An area of the console; one without ``href`` is announced as coming, with no page behind it."""

    key: str
    href: str | None = None
    permission: Permission | None = None


NAV = (
    NavItem("overview", HOME_PATH, Permission.METRICS_READ),
    NavItem("customers", "/console/customers", Permission.IDENTITY_READ),
    NavItem("review", "/console/review", Permission.IDENTITY_MERGE),
    NavItem("audiences", "/console/audiences", Permission.AUDIENCES_READ),
    NavItem("tags", "/console/tags", Permission.AUDIENCES_READ),
    NavItem("store_select", "/console/stores/select", Permission.AUDIENCES_READ),
    NavItem("membership", "/console/loyalty/schemes", Permission.LOYALTY_READ),
    NavItem("coupons", "/console/coupons", Permission.LOYALTY_READ),
    NavItem("marketing"),
    NavItem("supply", "/console/supply", Permission.SUPPLY_READ),
    NavItem("supplier", "/console/supplier", Permission.SUPPLY_SUPPLIER_READ),
    NavItem("stores"),
    NavItem("bi"),
    NavItem("flashsales", "/console/flashsales", Permission.FLASHSALES_READ),
    NavItem("audit", "/console/audit", Permission.AUDIT_READ),
)


def navigation(principal: Principal) -> list[NavItem]:
    return [item for item in NAV if item.permission is None or principal.can(item.permission)]


def page(
    request: Request,
    template: str,
    *,
    language: Language,
    visitor: Visitor | None = None,
    active: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A rendered page (or fragment) with the shared context and security headers."""
    shared: dict[str, Any] = {
        "lang": language,
        "other_lang": "en" if language == "zh-CN" else "zh-CN",
        "t": partial(translate, language),
        "tv": partial(translate_value, language),
        "active": active,
    }
    if visitor is not None:
        principal = visitor.session.principal
        shared.update(
            nav=navigation(principal),
            principal=principal,
            csrf_token=visitor.session.csrf_token,
        )
    response = templates.TemplateResponse(
        request, template, {**shared, **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def refuse_bad_csrf(
    request: Request, *, language: Language, visitor: Visitor, token: str
) -> HTMLResponse | None:
    """The 403 page when a signed-in form's CSRF token does not match its session, else None."""
    try:
        check_csrf(visitor.token, token)
    except Forbidden:
        return page(
            request,
            "error.html",
            language=language,
            visitor=visitor,
            status=403,
            message="error.csrf",
        )
    return None


def redirect(url: str) -> RedirectResponse:
    """A 303 See Other, the answer to a form POST and to a visitor who must sign in first."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after a form: a console path on this site, never another origin."""
    if (
        target
        and target.startswith("/console")
        and "\\" not in target
        and all(" " < char < "\x7f" for char in target)
    ):
        return target
    return HOME_PATH
