"""The audit log page for admins: filters by actor, action and day, newest first, paged with htmx.

An htmx request (filter change or page link) gets only the results fragment; the same URL without
htmx renders the whole page, so every state can be bookmarked and works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, InvalidInput
from newretail.security import Action, AuditPage, list_audit
from newretail.web.deps import LanguageDep, OltpDep, VisitorDep
from newretail.web.render import LOGIN_PATH, page, redirect

router = APIRouter()
PAGE_SIZE = 25
ACTIONS = [str(action) for action in Action]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """The filters as typed in the form; dates are whole UTC days, ``until`` included."""

    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def query(self, *, offset: int = 0) -> str:
        """The page's query string for these filters at ``offset``."""
        pairs = {name: value for name, value in asdict(self).items() if value}
        if offset:
            pairs["offset"] = str(offset)
        return urlencode(pairs)


def _day(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("audit.bad_date", f"not a date: {text!r}", field=field) from None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    offset: int = 0,
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    principal = visitor.session.principal
    filters = AuditFilters(actor.strip(), action.strip(), since.strip(), until.strip())
    fragment = request.headers.get("hx-request") == "true"
    template = "_audit_results.html" if fragment else "audit.html"
    error: str | None = None
    results = AuditPage(data=[], count=0)
    try:
        first, last = _day(filters.since, "since"), _day(filters.until, "until")
        with oltp.connect() as conn:
            results = list_audit(
                conn,
                principal,
                actor=filters.actor or None,
                action=filters.action or None,
                since=_start_of(first) if first else None,
                until=_start_of(last + dt.timedelta(days=1)) if last else None,
                limit=PAGE_SIZE,
                offset=max(offset, 0),
            )
    except Forbidden:
        return page(
            request,
            "error.html",
            language=language,
            visitor=visitor,
            active="audit",
            status=403,
            message="error.forbidden",
        )
    except InvalidInput as invalid:
        error = "audit.bad_range" if invalid.code == "audit.bad_range" else "audit.bad_date"
    response = page(
        request,
        template,
        language=language,
        visitor=visitor,
        active="audit",
        filters=filters,
        actions=ACTIONS,
        results=results,
        offset=max(offset, 0),
        page_size=PAGE_SIZE,
        error=error,
    )
    response.headers["Vary"] = "HX-Request, Cookie"
    if fragment:
        # The address bar shows the filters in use, without the empty ones the form sent.
        query = filters.query(offset=max(offset, 0))
        response.headers["HX-Push-Url"] = f"/console/audit?{query}" if query else "/console/audit"
    return response
