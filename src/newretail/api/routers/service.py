"""The customer service view (``customers.read``): one person's memberships with balances, coupons,
orders across channels with their refunds, and complaints and ratings, in one answer.

Each section follows the caller's role: memberships and coupons need ``loyalty.read``, orders
``orders.read``; a store manager sees only orders, complaints and ratings in their stores, and a
person with none of those there is not found. What an agent does about it are the existing calls:
``POST /api/v1/orders/{id}/refunds`` and ``POST /api/v1/coupons/{code}/reissue``; the view marks
which orders and coupons those would act on.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import Connection

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.routers.loyalty import membership_public
from newretail.api.service_models import (
    ComplaintPublic,
    RatingPublic,
    ServiceCouponPublic,
    ServiceOrderPublic,
    ServicePersonPublic,
)
from newretail.api.trade_models import OrderSummaryPublic, RefundPublic
from newretail.errors import NotFound
from newretail.loyalty.coupons import coupons_of
from newretail.loyalty.memberships import memberships_of, resolve_person
from newretail.security import Permission, Principal
from newretail.trade.order_views import OrderPage, list_orders
from newretail.trade.refunds import refunds_of
from newretail.trade.service_view import reissue_states, service_records

router = APIRouter(prefix="/api/v1/service", tags=["service"])

PersonId = Annotated[str, Path(min_length=1, max_length=24)]


@router.get("/persons/{person_id}")
def read_service_person(
    person_id: PersonId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    orders_limit: Annotated[int, Query(ge=1, le=200, description="Orders on the page.")] = 50,
    orders_offset: Annotated[int, Query(ge=0)] = 0,
) -> ServicePersonPublic:
    """Everything customer service needs about a person (a merged-away id answers for the person
    it went into); see the module's notes on roles and store scope."""
    principal.require(Permission.CUSTOMERS_READ)
    live = resolve_person(conn, person_id=person_id)
    scope = principal.store_scope
    page = (
        list_orders(
            conn,
            person_ids=[live],
            store_ids=sorted(scope) if scope is not None else None,
            limit=orders_limit,
            offset=orders_offset,
        )
        if principal.can(Permission.ORDERS_READ)
        else None
    )
    records = service_records(
        conn,
        runtime.lake,
        live,
        order_ids=[order.id for order in page.data] if page else [],
        store_scope=scope,
    )
    if scope is not None and not (
        (page and page.count) or records.lake_orders or records.complaints or records.ratings
    ):
        raise NotFound("identity.person_not_found", f"no person {person_id} in your stores")
    loyal = principal.can(Permission.LOYALTY_READ)
    return ServicePersonPublic(
        person_id=live,
        requested_id=person_id,
        memberships=(
            [membership_public(conn, m, now=now) for m in memberships_of(conn, live)]
            if loyal
            else None
        ),
        coupons=_coupons(conn, live, principal, now=now) if loyal else None,
        orders=_orders(conn, page, principal) if page else None,
        orders_count=page.count if page else None,
        complaints=[ComplaintPublic.model_validate(c) for c in records.complaints],
        ratings=[RatingPublic.model_validate(r) for r in records.ratings],
    )


def _orders(conn: Connection, page: OrderPage, principal: Principal) -> list[ServiceOrderPublic]:
    may_refund = principal.can(Permission.ORDERS_REFUND)
    return [
        ServiceOrderPublic(
            **OrderSummaryPublic.model_validate(order).model_dump(),
            refunds=[RefundPublic.model_validate(done) for done in refunds_of(conn, order.id)],
            # An order is "refunded" once every unit is; until then some are left.
            refundable=may_refund and order.status != "refunded",
        )
        for order in page.data
    ]


def _coupons(
    conn: Connection, person_id: str, principal: Principal, *, now: dt.datetime
) -> list[ServiceCouponPublic]:
    held = coupons_of(conn, person_id)
    states = reissue_states(conn, held, now=now)
    may_reissue = principal.can(Permission.COUPONS_REISSUE)
    return [
        ServiceCouponPublic(
            id=c.id,
            template_id=c.template_id,
            person_id=c.person_id,
            status=c.status,
            issued_at=c.issued_at,
            valid_from=c.valid_from,
            expires_at=c.expires_at,
            order_id=c.order_id,
            redeemed_at=c.redeemed_at,
            discount_minor=c.discount_minor,
            replaced_by=states[c.id].replaced_by,
            reissuable=may_reissue and states[c.id].reissuable,
        )
        for c in held
    ]
