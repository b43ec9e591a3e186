"""Orders: POS, app and mini-program quote and place orders (``orders.place``); staff and channels read
them (``orders.read``, store-scoped) and refund them (``orders.refund``).

Placing an order and refunding one take an Idempotency-Key; each also has a natural key of its own
(the channel's order id, the refund key), so even a retry with a fresh key acts once.

Quoting and placing, called on every order, trust a bearer key's check for a few seconds
(:mod:`newretail.api.keycache`, as the flash-sale reservations do): a revoked or expired key, or a
withdrawn role or store, still places orders for at most that long. Refunds send money back out and
are rare, so they check the key on every call.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from newretail.api.deps import (
    CachedDbConn,
    CachedPrincipal,
    CurrentPrincipal,
    DbConn,
    Now,
    RuntimeDep,
)
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.trade_models import (
    CheckoutCreate,
    DiscountPublic,
    OrderLinePublic,
    OrderPublic,
    OrdersPublic,
    OrderSummaryPublic,
    QuotePublic,
    RefundCreate,
    RefundPublic,
)
from newretail.security import Permission, Principal
from newretail.trade import actions, orders
from newretail.trade.order_views import OrderView, get_order, list_orders, placed_view

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post("/quote")
def quote_order(
    payload: CheckoutCreate, conn: CachedDbConn, principal: CachedPrincipal, now: Now
) -> QuotePublic:
    """Price a basket as placing it would: tier discount and coupons in order, line by line, and the
    points it would earn. Writes nothing."""
    principal.require(Permission.ORDERS_PLACE)
    return QuotePublic.of(orders.quote(conn, payload.request(), now=now))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderPublic)
def place_order(
    payload: CheckoutCreate,
    conn: CachedDbConn,
    principal: CachedPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Place the order: in one transaction redeem its coupons, charge the wallet when paying from
    it, earn points and queue it for the lake. The channel's order id placed again returns the
    order placed first."""
    principal.require(Permission.ORDERS_PLACE)
    principal.require_store(payload.store_id)

    def work() -> OrderPublic:
        placed, _ = orders.place(conn, payload.request(), actor=principal.actor, now=now)
        return public(placed_view(conn, placed))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("")
def read_orders(
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    person_id: Annotated[str | None, Query(max_length=24)] = None,
    store_id: Annotated[str | None, Query(max_length=32)] = None,
) -> OrdersPublic:
    """Orders newest first, of a person and/or a store; a store manager sees only their stores."""
    principal.require(Permission.ORDERS_READ)
    stores = _visible_stores(principal, store_id)
    found = list_orders(
        conn,
        person_ids=[person_id] if person_id else None,
        store_ids=stores,
        limit=page.limit,
        offset=page.offset,
    )
    return OrdersPublic(
        data=[OrderSummaryPublic.model_validate(order) for order in found.data], count=found.count
    )


@router.get("/{order_id}")
def read_order(order_id: OrderId, conn: DbConn, principal: CurrentPrincipal) -> OrderPublic:
    """One order with its lines, the pricing steps as applied and its refunds."""
    principal.require(Permission.ORDERS_READ)
    view = get_order(conn, order_id)
    principal.require_store(view.order.store_id)
    return public(view)


@router.post(
    "/{order_id}/refunds", status_code=status.HTTP_201_CREATED, response_model=RefundPublic
)
def refund_order(
    order_id: OrderId,
    payload: RefundCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Refund some units of some lines, or all that is left: the wallet's share goes back to the
    wallet, earned points are reversed, and coupons come back once the whole order is refunded."""
    principal.require(Permission.ORDERS_REFUND)

    def work() -> RefundPublic:
        done = actions.refund_order(
            conn,
            order_id,
            lines=payload.refund_lines(),
            refund_key=payload.refund_key or idempotency.key or "",
            reason=payload.reason,
            actor=principal,
            now=now,
        )
        return RefundPublic.model_validate(done)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


def public(view: OrderView) -> OrderPublic:
    summary = OrderSummaryPublic.model_validate(view.order)
    return OrderPublic(
        **summary.model_dump(),
        lines=[OrderLinePublic.model_validate(line) for line in view.lines],
        discounts=[DiscountPublic.model_validate(step) for step in view.discounts],
        refunds=[RefundPublic.model_validate(done) for done in view.refunds],
    )


def _visible_stores(principal: Principal, store_id: str | None) -> list[str] | None:
    if store_id is not None:
        principal.require_store(store_id)
        return [store_id]
    scope = principal.store_scope
    return sorted(scope) if scope is not None else None
