"""Replenishment in the console (``supply.read``): the newest plan's proposed orders by location,
stores first, each line with its explanation, filters and totals; planners (``supply.write``)
approve a location's pending lines in one click, edit a line's packs with a reason, or reject it.
A store manager sees its stores only. Each decision is a CSRF-checked form answered with a redirect
back to the page, whose notice then says what happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, Engine

from newretail.errors import Forbidden, NewRetailError, NotFound
from newretail.security import Permission, Principal
from newretail.supply.replenish.decisions import Location, approve, edit, reject
from newretail.supply.replenish.plan_records import STATUSES, LineFilter
from newretail.supply.replenish.plans import (
    get_plan,
    list_lines,
    list_plans,
    plan_locations,
    plan_totals,
)
from newretail.supply.replenish.purchase_orders import orders_of_lines
from newretail.web.audience_deps import Show, gate
from newretail.web.deps import LanguageDep, NowDep, OltpDep, Visitor, VisitorDep
from newretail.web.i18n import Language
from newretail.web.render import LOGIN_PATH, redirect, refuse_bad_csrf, safe_next
from newretail.web.supply_view import (
    DEFINITIONS,
    DONE,
    PAGE_SIZE,
    Filters,
    groups,
    location_options,
    shown_error,
    total_figures,
)

router = APIRouter()
# One decision on the plan, run in the handler's transaction as the signed-in planner.
Decision = Callable[[Connection, Principal], object]
PAGE_PATH = "/console/supply"
PlanId = Annotated[int, Path(ge=1)]
LineId = Annotated[int, Path(ge=1)]


@router.get("/supply", response_class=HTMLResponse)
def replenishment_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    plan: int | None = None,
    location: str = "",
    status: str = "",
    page: int = 0,
    done: str = "",
    error: str = "",
) -> Response:
    show = _gate(request, language, visitor)
    if isinstance(show, Response):
        return show
    assert visitor is not None
    viewer = visitor.session.principal
    filters = Filters.read(plan, location, status, page)
    try:
        with oltp.connect() as conn:
            plans, _ = list_plans(conn, viewer, limit=30, offset=0)
            current = get_plan(conn, plan, viewer) if plan else (plans[0] if plans else None)
            if current is None:
                return show("supply.html", plan=None, plans=[], filters=filters)
            chosen = filters.chosen()
            lines, count = list_lines(
                conn,
                current.id,
                viewer,
                chosen=chosen,
                limit=PAGE_SIZE,
                offset=filters.page * PAGE_SIZE,
            )
            totals = plan_totals(conn, current.id, viewer, chosen=chosen)
            places = plan_locations(conn, current.id, viewer, chosen=LineFilter())
            orders = orders_of_lines(conn, [line.id for line in lines])
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    here = f"{PAGE_PATH}?{filters.query(plan=current.id)}"
    return show(
        "supply.html",
        plan=current,
        plans=plans,
        filters=filters,
        groups=groups(lines, places, orders),
        count=count,
        pages=max(1, -(-count // PAGE_SIZE)),
        totals=total_figures(totals),
        locations=location_options(places),
        statuses=STATUSES,
        scoped=viewer.store_scope is not None,
        can_decide=viewer.can(Permission.SUPPLY_WRITE),
        here=here,
        done=done if done in DONE else None,
        error=shown_error(error) if error else None,
        definitions=DEFINITIONS,
    )


@router.post("/supply/plans/{plan_id}/approve")
def approve_submit(
    request: Request,
    plan_id: PlanId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    location: Annotated[str, Form(max_length=48)] = "",
    back: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Approve every pending line of one location."""
    kind, _, place = location.partition(":")
    return _decide(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        csrf_token=csrf_token,
        back=back,
        done="approved",
        work=lambda conn, actor: approve(
            conn, plan_id, location=Location(kind, place), actor=actor, now=now
        ),
    )


@router.post("/supply/plans/{plan_id}/lines/{line_id}/edit")
def edit_submit(
    request: Request,
    plan_id: PlanId,
    line_id: LineId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    packs: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2_000)] = "",
    back: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Set a line's packs with the planner's reason."""
    number = int(packs) if packs.strip().lstrip("-").isdigit() else -1
    return _decide(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        csrf_token=csrf_token,
        back=back,
        done="edited",
        work=lambda conn, actor: edit(
            conn, plan_id, line_id, packs=number, reason=reason, actor=actor, now=now
        ),
    )


@router.post("/supply/plans/{plan_id}/lines/{line_id}/reject")
def reject_submit(
    request: Request,
    plan_id: PlanId,
    line_id: LineId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=2_000)] = "",
    back: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Order nothing for a line."""
    return _decide(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        csrf_token=csrf_token,
        back=back,
        done="rejected",
        work=lambda conn, actor: reject(
            conn, plan_id, line_id, reason=reason, actor=actor, now=now
        ),
    )


def _decide(
    request: Request,
    *,
    language: Language,
    visitor: Visitor | None,
    oltp: Engine,
    csrf_token: str,
    back: str,
    done: str,
    work: Decision,
) -> Response:
    """Run one decision in its own transaction and go back to the page with its outcome."""
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = _gate(request, language, visitor, Permission.SUPPLY_WRITE)
    if isinstance(show, Response):
        return show
    outcome = f"done={done}"
    try:
        with oltp.begin() as conn:
            work(conn, visitor.session.principal)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NewRetailError as refusal:
        outcome = f"error={refusal.code}"
    target = safe_next(back) if back.startswith(PAGE_PATH) else PAGE_PATH
    separator = "&" if "?" in target else "?"
    return redirect(f"{target}{separator}{outcome}")


def _gate(
    request: Request,
    language: Language,
    visitor: Visitor | None,
    permission: Permission = Permission.SUPPLY_READ,
) -> Show | Response:
    return gate(request, language=language, visitor=visitor, active="supply", permission=permission)
