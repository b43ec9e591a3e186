"""Coupons: templates with their counts and cost (``loyalty.read`` / ``loyalty.manage``), issuing a
template to a list of persons or an audience (``coupons.issue``), a person's coupons
(``loyalty.read``), and a service agent's re-issue (``coupons.reissue``) and revocation
(``loyalty.manage``). Every change takes an Idempotency-Key and is audited by the domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy import Connection

from newretail.api.coupon_models import (
    CouponPublic,
    CouponsPublic,
    IssueCreate,
    IssuePublic,
    ReissueCreate,
    StatusChange,
    TemplateCreate,
    TemplatePublic,
    TemplatesPublic,
    TemplateStatsPublic,
)
from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.runtime import Runtime
from newretail.audience import actions, service
from newretail.audience.saved import get_audience, get_snapshot, list_snapshots
from newretail.errors import NotFound
from newretail.loyalty.coupon_issue import dense_person_ids, issue_to_audience, issue_to_list
from newretail.loyalty.coupon_stats import TemplateStats, template_stats
from newretail.loyalty.coupon_templates import (
    CouponTemplate,
    create_template,
    get_template,
    list_templates,
    set_template_status,
)
from newretail.loyalty.coupons import coupons_of, reissue, revoke
from newretail.loyalty.memberships import resolve_person
from newretail.security import Permission, Principal

router = APIRouter(prefix="/api/v1/coupons", tags=["coupons"])

TemplateId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
CouponCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/templates")
def read_templates(conn: DbConn, principal: CurrentPrincipal, page: Page) -> TemplatesPublic:
    """Every template by id, each with how many coupons were issued, are outstanding, redeemed,
    expired and revoked, and what the redeemed ones cost."""
    principal.require(Permission.LOYALTY_READ)
    found = list_templates(conn)
    stats = {s.template_id: s for s in template_stats(conn)}
    data = [template_public(t, stats.get(t.id)) for t in page.page(found)]
    return TemplatesPublic(data=data, count=len(found))


@router.post("/templates", status_code=status.HTTP_201_CREATED, response_model=TemplatePublic)
def create_coupon_template(
    payload: TemplateCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Create a template, active at once."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> TemplatePublic:
        template = create_template(conn, payload.draft(), actor=principal, now=now)
        return template_public(template, None)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/templates/{template_id}")
def read_template(
    template_id: TemplateId, conn: DbConn, principal: CurrentPrincipal
) -> TemplatePublic:
    principal.require(Permission.LOYALTY_READ)
    return _with_stats(conn, get_template(conn, template_id))


@router.post("/templates/{template_id}/status", response_model=TemplatePublic)
def change_template_status(
    template_id: TemplateId,
    payload: StatusChange,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Pause, resume or retire a template: a paused or retired one issues nothing, and its coupons
    are refused at checkout."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> TemplatePublic:
        template = set_template_status(conn, template_id, payload.status, actor=principal, now=now)
        return _with_stats(conn, template)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/templates/{template_id}/issues", response_model=IssuePublic)
def issue_coupons(
    template_id: TemplateId,
    payload: IssueCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Issue one coupon to each person of a list (up to 100,000) or of an audience, within the
    template's budget and per-person limit; a person already holding one under ``issue_key`` gets
    no second."""
    principal.require(Permission.COUPONS_ISSUE)

    def work() -> IssuePublic:
        if payload.person_ids is not None:
            persons = len(set(payload.person_ids))
            snapshot_id = None
            result = issue_to_list(
                conn,
                template_id,
                payload.person_ids,
                issue_key=payload.issue_key,
                actor=principal,
                now=now,
            )
        else:
            assert payload.audience_id is not None  # IssueCreate holds one target or the other
            snapshot_id, persons = _snapshot(
                conn, runtime, payload.audience_id, payload.snapshot_id, principal, now
            )
            result = issue_to_audience(
                conn,
                template_id,
                snapshot_id,
                dense_person_ids(runtime.live_indexes(now).persons.keys),
                actor=principal,
                now=now,
                issue_key=payload.issue_key,
            )
        return IssuePublic(
            template_id=template_id,
            issue_key=payload.issue_key,
            snapshot_id=snapshot_id,
            persons=persons,
            issued=result.issued,
            already=result.already,
            over_budget=result.over_budget,
            over_person_limit=result.over_person_limit,
        )

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.get("")
def read_coupons(
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    person_id: Annotated[str, Query(min_length=1, max_length=24)],
    coupon_status: Annotated[
        str | None,
        Query(alias="status", pattern=r"^(issued|redeemed|expired|revoked)$"),
    ] = None,
) -> CouponsPublic:
    """A person's coupons, newest first (a merged-away id answers for the person it went into)."""
    principal.require(Permission.LOYALTY_READ)
    live = resolve_person(conn, person_id=person_id)
    found = coupons_of(conn, live, status=coupon_status)
    return CouponsPublic(
        data=[CouponPublic.model_validate(c) for c in page.page(found)], count=len(found)
    )


@router.post("/{code}/reissue", status_code=status.HTTP_201_CREATED, response_model=CouponPublic)
def reissue_coupon(
    code: CouponCode,
    payload: ReissueCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """A replacement for a coupon (customer service): a new code of the same template for the same
    person, valid afresh. Asking again for the same coupon answers with the same replacement."""
    principal.require(Permission.COUPONS_REISSUE)

    def work() -> CouponPublic:
        replacement = reissue(conn, code, actor=principal, reason=payload.reason, now=now)
        return CouponPublic.model_validate(replacement)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post("/{code}/revoke", response_model=CouponPublic)
def revoke_coupon(
    code: CouponCode,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Withdraw an unused coupon; a used or expired one is refused."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> CouponPublic:
        return CouponPublic.model_validate(revoke(conn, code, actor=principal, now=now))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


def template_public(template: CouponTemplate, stats: TemplateStats | None) -> TemplatePublic:
    counts = (
        TemplateStatsPublic.model_validate(stats)
        if stats is not None
        else TemplateStatsPublic(
            issued=0, outstanding=0, redeemed=0, expired=0, revoked=0, cost_minor=0
        )
    )
    return TemplatePublic(
        id=template.id,
        name=template.name,
        name_en=template.name_en,
        kind=template.kind,
        currency=template.currency,
        amount_off_minor=template.amount_off_minor,
        threshold_minor=template.threshold_minor,
        percent_off=template.percent_off,
        cap_minor=template.cap_minor,
        target_product_id=template.target_product_id,
        target_category=template.target_category,
        scope=template.scope,
        valid_from=template.valid_from,
        valid_until=template.valid_until,
        valid_days=template.valid_days,
        budget_total=template.budget_total,
        per_person_limit=template.per_person_limit,
        stacks_with_tier=template.stacks_with_tier,
        status=template.status,
        created_by=template.created_by,
        created_at=template.created_at,
        updated_at=template.updated_at,
        stats=counts,
    )


def _with_stats(conn: Connection, template: CouponTemplate) -> TemplatePublic:
    stats = {s.template_id: s for s in template_stats(conn)}
    return template_public(template, stats.get(template.id))


def _snapshot(
    conn: Connection,
    runtime: Runtime,
    audience_id: str,
    snapshot_id: str | None,
    principal: Principal,
    now: dt.datetime,
) -> tuple[str, int]:
    """The snapshot to issue to and its size: the one named, else the audience's latest, else one
    frozen now (which needs ``audiences.write``)."""
    if snapshot_id is not None:
        snapshot = get_snapshot(conn, snapshot_id)
        if snapshot.audience_id != audience_id:
            raise NotFound(
                "audience.unknown_snapshot",
                f"audience {audience_id} has no snapshot {snapshot_id}",
                field="snapshot_id",
            )
        return snapshot.id, snapshot.size
    taken = list_snapshots(conn, audience_id)
    if taken:
        return taken[0].id, taken[0].size
    audience = get_audience(conn, audience_id)
    compiled = service.compile_expression(
        runtime.indexes.get(), text=None, tree=audience.expression, entity=audience.entity
    )
    frozen = actions.freeze(
        conn,
        runtime.live_indexes(now),
        audience_id,
        label=f"coupons {now:%Y-%m-%d %H:%M}",
        compiled=compiled,
        actor=principal,
        now=now,
    )
    return frozen.id, frozen.size
