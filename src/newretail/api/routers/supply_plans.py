"""Replenishment plans: read plans, their lines with explanations and the purchase orders approved
lines became (``supply.read``; a store manager sees its stores' lines only), and decide lines —
approve, edit, reject (``supply.write``). Every decision takes an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.supply_plan_models import (
    ApprovalCreate,
    ApprovalPublic,
    LineEdit,
    LinePublic,
    LineReject,
    LinesPublic,
    PlanPublic,
    PlansPublic,
    PurchaseOrderPublic,
    PurchaseOrdersPublic,
)
from newretail.supply.replenish.decisions import approve, edit, reject
from newretail.supply.replenish.plan_records import LineFilter
from newretail.supply.replenish.plans import get_plan, list_lines, list_plans, plan_totals
from newretail.supply.replenish.purchase_orders import purchase_orders

router = APIRouter(prefix="/api/v1/supply", tags=["supply"])

PlanId = Annotated[int, Path(ge=1)]
LineId = Annotated[int, Path(ge=1)]
LocationId = Annotated[str | None, Query(min_length=1, max_length=32)]


@router.get("/plans")
def read_plans(conn: DbConn, principal: CurrentPrincipal, page: Page) -> PlansPublic:
    """Replenishment plans, newest origin first."""
    plans, count = list_plans(conn, principal, limit=page.limit, offset=page.offset)
    return PlansPublic(data=[PlanPublic.of(plan) for plan in plans], count=count)


@router.get("/plans/{plan_id}")
def read_plan(plan_id: PlanId, conn: DbConn, principal: CurrentPrincipal) -> PlanPublic:
    """A plan with the totals of the lines you may see."""
    plan = get_plan(conn, plan_id, principal)
    return PlanPublic.of(plan, plan_totals(conn, plan_id, principal, chosen=LineFilter()))


@router.get("/plans/{plan_id}/lines")
def read_lines(
    plan_id: PlanId,
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    location_type: Literal["store", "warehouse"] | None = None,
    location_id: LocationId = None,
    line_status: Annotated[
        Literal["proposed", "approved", "edited", "rejected"] | None, Query(alias="status")
    ] = None,
) -> LinesPublic:
    """A plan's lines, stores before DCs, each with its explanation and decision."""
    chosen = LineFilter(location_type, location_id, line_status)
    lines, count = list_lines(
        conn, plan_id, principal, chosen=chosen, limit=page.limit, offset=page.offset
    )
    return LinesPublic(data=[LinePublic.of(line) for line in lines], count=count)


@router.post("/plans/{plan_id}/approve", response_model=ApprovalPublic)
def approve_lines(
    plan_id: PlanId,
    payload: ApprovalCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Approve the named lines, or every pending line of a location; lines with packs go on their
    purchase order (one per plan, location and shipper). Approving again changes nothing. Audited."""

    def work() -> ApprovalPublic:
        done = approve(
            conn,
            plan_id,
            line_ids=payload.line_ids,
            location=payload.location(),
            actor=principal,
            now=now,
        )
        return ApprovalPublic.model_validate(done)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/plans/{plan_id}/lines/{line_id}/edit", response_model=LinePublic)
def edit_line(
    plan_id: PlanId,
    line_id: LineId,
    payload: LineEdit,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Change the packs a line orders, with the reason; refused once the line is ordered. Audited."""

    def work() -> LinePublic:
        line = edit(
            conn,
            plan_id,
            line_id,
            packs=payload.packs,
            reason=payload.reason,
            actor=principal,
            now=now,
        )
        return LinePublic.of(line)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/plans/{plan_id}/lines/{line_id}/reject", response_model=LinePublic)
def reject_line(
    plan_id: PlanId,
    line_id: LineId,
    payload: LineReject,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Order nothing for this line; refused once the line is ordered. Audited."""

    def work() -> LinePublic:
        line = reject(conn, plan_id, line_id, reason=payload.reason, actor=principal, now=now)
        return LinePublic.of(line)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.get("/purchase-orders")
def read_purchase_orders(
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    plan_id: Annotated[int | None, Query(ge=1)] = None,
    location_id: LocationId = None,
) -> PurchaseOrdersPublic:
    """Purchase orders from approved lines, newest first, with their lines and cost."""
    orders, count = purchase_orders(
        conn,
        principal,
        plan_id=plan_id,
        location_id=location_id,
        limit=page.limit,
        offset=page.offset,
    )
    return PurchaseOrdersPublic(
        data=[PurchaseOrderPublic.model_validate(order) for order in orders], count=count
    )
