"""The person page's Membership & benefits section (``loyalty.read``) and Service section
(``orders.read``; a store manager sees only their stores' orders), loaded into the page after it
renders (htmx), like its Tags section. Both also need ``customers.read``, as the page does; an id
merged away shows the person it went into. The actions taken there are in ``service_actions``.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, Engine

from newretail.errors import NotFound
from newretail.lake import Lake
from newretail.loyalty import wallet
from newretail.loyalty.memberships import get_membership, resolve_person
from newretail.security import Permission
from newretail.trade import refunds
from newretail.trade.service_view import service_records
from newretail.web.audience_deps import Show, gate
from newretail.web.deps import LakeDep, LanguageDep, NowDep, OltpDep, Visitor, VisitorDep
from newretail.web.i18n import Language, translate
from newretail.web.service_view import (
    ORDERS_PAGE,
    coupon_rows,
    entry_row,
    history_page,
    membership_cards,
    order_rows,
)

router = APIRouter()
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
# Refusals the sections explain in words (service.error.<code>); any other is a general failure.
ERRORS = (
    "refund.bad_key",
    "refund.unknown_reason",
    "refund.nothing_left",
    "refund.no_lines",
    "refund.unknown_line",
    "refund.bad_quantity",
    "refund.exceeds_order",
    "order.not_found",
    "wallet.refund_exceeds_payment",
    "auth.store_denied",
    "coupon.bad_reason",
    "coupon.unknown",
    "coupon_template.budget_exhausted",
)
GENERAL_ERROR = "failed"
DONE = ("refunded", "reissued")
LOYALTY_DEFINITIONS = ("points", "wallet", "bonus", "paid_period", "history", "coupons")
SERVICE_DEFINITIONS = ("orders", "refunded", "left", "complaints")


@router.get("/customers/{person_id}/loyalty", response_class=HTMLResponse)
def loyalty_section(
    request: Request,
    person_id: PersonId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    loyalty_done: str = "",
    loyalty_error: str = "",
) -> Response:
    show = section_gate(request, language, visitor, Permission.LOYALTY_READ)
    if isinstance(show, Response):
        return show
    return render_loyalty(
        show,
        oltp=oltp,
        visitor=visitor,
        language=language,
        person_id=person_id,
        now=now,
        done=loyalty_done,
        error=loyalty_error,
    )


@router.get("/customers/{person_id}/memberships/{membership_id}/history")
def history_rows(
    request: Request,
    person_id: PersonId,
    membership_id: Annotated[int, Path(ge=1)],
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    before: Annotated[int, Query(ge=1)],
) -> Response:
    """The next page of a membership's ledger entries: table rows that replace the "older" row."""
    show = section_gate(request, language, visitor, Permission.LOYALTY_READ)
    if isinstance(show, Response):
        return show
    with oltp.connect() as conn:
        try:
            membership = get_membership(conn, membership_id)
        except NotFound:
            membership = None
        if membership is None or membership.person_id != live_person_id(conn, person_id):
            return show("error.html", status=404, message="error.not_found")
        currency = wallet.balances(conn, membership_id).currency
        entries, older = history_page(conn, membership_id, before_id=before)
    return show(
        "_ledger_rows.html",
        rows=[entry_row(entry, currency) for entry in entries],
        older=older,
        membership_id=membership_id,
        person_id=person_id,
    )


@router.get("/customers/{person_id}/service", response_class=HTMLResponse)
def service_section(
    request: Request,
    person_id: PersonId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    page_no: Annotated[int, Query(alias="page", ge=0, le=10_000)] = 0,
    service_done: str = "",
    service_error: str = "",
) -> Response:
    show = section_gate(request, language, visitor, Permission.ORDERS_READ)
    if isinstance(show, Response):
        return show
    return render_service(
        show,
        oltp=oltp,
        lake=lake,
        visitor=visitor,
        language=language,
        person_id=person_id,
        page_no=page_no,
        done=service_done,
        error=service_error,
    )


def section_gate(
    request: Request, language: Language, visitor: Visitor | None, permission: Permission
) -> Show | Response:
    """A renderer for a visitor who may read customers (as the person page requires) and has
    ``permission``; otherwise the sign-in redirect or the 403 page."""
    show = gate(
        request, language=language, visitor=visitor, active="customers", permission=permission
    )
    if isinstance(show, Response):
        return show
    assert visitor is not None
    if not visitor.session.principal.can(Permission.CUSTOMERS_READ):
        return show("error.html", status=403, message="error.forbidden")
    return show


def live_person_id(conn: Connection, person_id: str) -> str:
    """The person a merged-away id went into; an id OneID does not know is kept (its sections are
    empty)."""
    try:
        return resolve_person(conn, person_id=person_id)
    except NotFound:
        return person_id


def render_loyalty(
    show: Show,
    *,
    oltp: Engine,
    visitor: Visitor | None,
    language: Language,
    person_id: str,
    now: dt.datetime,
    done: str,
    error: str,
) -> HTMLResponse:
    """The Membership & benefits section, with an outcome (``done`` or an ``error`` code) on top."""
    assert visitor is not None
    t = partial(translate, language)
    with oltp.connect() as conn:
        live = live_person_id(conn, person_id)
        cards = membership_cards(conn, live, language=language, today=now.date())
        coupons = coupon_rows(conn, live, t=t, language=language, now=now)
    return show(
        "_person_loyalty.html",
        person_id=live,
        cards=cards,
        coupons=coupons,
        can_reissue=visitor.session.principal.can(Permission.COUPONS_REISSUE),
        done=done if done in DONE else None,
        error=error if error in (*ERRORS, GENERAL_ERROR) else None,
        definitions=LOYALTY_DEFINITIONS,
    )


def render_service(
    show: Show,
    *,
    oltp: Engine,
    lake: Lake,
    visitor: Visitor | None,
    language: Language,
    person_id: str,
    page_no: int,
    done: str,
    error: str,
) -> HTMLResponse:
    """The Service section's page ``page_no`` of orders, with an outcome on top."""
    assert visitor is not None
    principal = visitor.session.principal
    scope = principal.store_scope
    with oltp.connect() as conn:
        live = live_person_id(conn, person_id)
        orders, count = order_rows(conn, live, store_scope=scope, page=page_no, language=language)
        records = service_records(
            conn,
            lake,
            live,
            order_ids=[row.view.order.id for row in orders],
            store_scope=scope,
        )
    return show(
        "_person_service.html",
        person_id=live,
        orders=orders,
        count=count,
        page_no=page_no,
        pages=max(1, -(-count // ORDERS_PAGE)),
        complaints=records.complaints,
        ratings=records.ratings,
        can_refund=principal.can(Permission.ORDERS_REFUND),
        reasons=refunds.REASONS,
        scoped=scope is not None,
        done=done if done in DONE else None,
        error=error if error in (*ERRORS, GENERAL_ERROR) else None,
        definitions=SERVICE_DEFINITIONS,
    )
