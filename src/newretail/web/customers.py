"""The customers pages: search by person id, record id, phone or e-mail; the member 360; and the
Un-merge and Re-merge buttons of its merge history (``identity.merge``).

The search is a POST so a phone number or e-mail typed into it never lands in a URL, a server log or
the browser's history; htmx swaps in just the results, and without JavaScript the page comes back
whole.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, InvalidInput, NotFound
from newretail.identity import actions, search
from newretail.security import Permission
from newretail.security.pii import PiiProtector
from newretail.web.deps import LakeDep, LanguageDep, NowDep, OltpDep, SettingsDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.identity_forms import act, rules_of, shown_error
from newretail.web.person_view import build_view
from newretail.web.render import LOGIN_PATH, page, redirect, refuse_bad_csrf

router = APIRouter()
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
DONE = ("unmerged", "remerged")
# Figures and sections of the 360 page with a definition in its glossary.
DEFINITIONS = (
    "golden",
    "consent",
    "identities",
    "reason",
    "weight",
    "memberships",
    "points",
    "by_channel",
    "orders",
    "paid",
    "refunds",
    "complaints",
    "timeline",
    "merges",
)


def person_path(person_id: str) -> str:
    return f"/console/customers/{quote(person_id, safe='')}"


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request, language: LanguageDep, visitor: VisitorDep) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="customers")
    if not visitor.session.principal.can(Permission.IDENTITY_READ):
        return show("error.html", status=403, message="error.forbidden")
    return show("customers.html", query="", hits=None, error=None)


@router.post("/customers", response_class=HTMLResponse)
def customers_search(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    settings: SettingsDep,
    q: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = partial(page, request, language=language, visitor=visitor, active="customers")
    fragment = request.headers.get("hx-request") == "true"
    template = "_customer_results.html" if fragment else "customers.html"
    try:
        with oltp.connect() as conn:
            hits = search.search(
                conn,
                lake,
                q,
                principal=visitor.session.principal,
                protector=PiiProtector.from_settings(settings),
                rules=rules_of(settings),
            )
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except InvalidInput:
        return show(template, query=q, hits=None, error="customers.empty_query")
    return show(template, query=q, hits=hits, error=None)


@router.get("/customers/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: PersonId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    settings: SettingsDep,
    done: str = "",
    error: str = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="customers")
    principal = visitor.session.principal
    try:
        with oltp.connect() as conn:
            person = search.view(
                conn, lake, person_id, principal=principal, rules=rules_of(settings)
            )
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NotFound:
        return show(
            "error.html",
            status=404,
            title="customers.not_found_title",
            message="customers.not_found",
        )
    return show(
        "person.html",
        view=build_view(person, partial(translate, language)),
        can_merge=principal.can(Permission.IDENTITY_MERGE),
        done=done if done in DONE else None,
        error=shown_error(error),
        definitions=DEFINITIONS,
    )


@router.post("/customers/{person_id}/unmerge")
def unmerge_submit(
    request: Request,
    person_id: PersonId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    event_id: Annotated[int | None, Form(ge=1)] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    principal = visitor.session.principal
    return act(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        token=csrf_token,
        back=person_path(person_id),
        done="unmerged",
        action=lambda conn: actions.unmerge(
            conn, person_id, principal=principal, now=now, event_id=event_id
        ),
    )


@router.post("/customers/events/{event_id}/remerge")
def remerge_submit(
    request: Request,
    event_id: Annotated[int, Path(ge=1)],
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    person: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """``person``: the page the button was on, shown again afterwards (with the persons merged it
    shows the one they went into)."""
    if visitor is None:
        return redirect(LOGIN_PATH)
    principal = visitor.session.principal
    return act(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        token=csrf_token,
        back=person_path(person),
        done="remerged",
        action=lambda conn: actions.remerge(conn, event_id, principal=principal, now=now),
    )
