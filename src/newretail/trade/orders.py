"""Order intake: quote an order, and place it — redeem its coupons, charge the wallet, earn points and
queue it for the lake — all in the caller's transaction, so either everything happens or nothing does.

A channel's order id (``client_order_id``) is the order's natural key: placing the same order id again
returns the order already placed and changes nothing, so a till that retries after a timeout is safe
even without an Idempotency-Key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from newretail.errors import Conflict
from newretail.loyalty import points, wallet
from newretail.loyalty.coupons import redeem
from newretail.loyalty.earning import points_expiry
from newretail.loyalty.memberships import enrol
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import order_discounts, order_lines, orders
from newretail.trade.checkout import STORED_VALUE, CheckoutRequest, PricedBasket, priced_basket
from newretail.trade.outbox import enqueue_placed

# Built once (every order runs them): a statement's construction costs more than its execution.
_EXISTING = select(orders.c.id).where(
    orders.c.channel == bindparam("channel"),
    orders.c.client_order_id == bindparam("client_order_id"),
)
_INSERT_LINES = insert(order_lines)
_INSERT_DISCOUNTS = insert(order_discounts)


@dataclass(frozen=True, slots=True)
class OrderRows:
    """The rows placing an order wrote: ``orders``, ``order_lines`` (in line order) and
    ``order_discounts``, column name to value."""

    order: Mapping[str, Any]
    lines: Sequence[Mapping[str, Any]]
    discounts: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Placed:
    """An order placed by this call, with the rows it wrote, or ``replayed``: placed before (and
    ``rows`` None)."""

    order_id: str
    replayed: bool
    rows: OrderRows | None = None


def quote(conn: Connection, request: CheckoutRequest, *, now: dt.datetime) -> PricedBasket:
    """Price ``request`` as placing it would, without writing anything."""
    return priced_basket(conn, request, now=now)


def place(
    conn: Connection, request: CheckoutRequest, *, actor: str, now: dt.datetime
) -> tuple[Placed, PricedBasket | None]:
    """Place the order; returns it (with the rows written), and the priced basket unless it was
    placed before."""
    existing = _existing(conn, request)
    if existing is not None:
        return Placed(order_id=existing, replayed=True), None
    basket = priced_basket(conn, request, now=now)
    if request.payment_method == STORED_VALUE and basket.scheme is None:
        raise Conflict(
            "wallet.insufficient",
            f"no membership scheme with a wallet covers {request.channel} in {basket.store.currency}",
            field="payment_method",
        )
    membership = basket.membership
    if basket.person_id is not None and basket.scheme is not None and membership is None:
        # A known person ordering in a channel whose scheme they have not joined joins it here, so
        # the points this order earns have somewhere to go.
        membership = enrol(
            conn, basket.scheme.id, basket.person_id, channel=request.channel, actor=actor, now=now
        )
    order_id = f"ord_{secrets.token_hex(8)}"
    member = request.member
    quote_ = basket.quote
    wallet_minor = quote_.total_minor if request.payment_method == STORED_VALUE else 0
    earned = basket.points if membership is not None else 0
    order_row = {
        "id": order_id,
        "channel": request.channel,
        "client_order_id": request.client_order_id,
        "store_id": basket.store.store_id,
        "person_id": basket.person_id,
        "identity_source": member.source if member else None,
        "identity_record_id": member.source_record_id if member else None,
        "membership_id": membership.id if membership else None,
        "status": "placed",
        "fulfilment": request.fulfilment,
        "currency": basket.store.currency,
        "gross_minor": quote_.gross_minor,
        "discount_minor": quote_.discount_minor,
        "paid_minor": quote_.total_minor,
        "wallet_minor": wallet_minor,
        "payment_method": request.payment_method,
        "points_earned": earned,
        "refunded_minor": 0,
        "placed_at": now.astimezone(dt.UTC),
        "business_date": basket.business_date,
    }
    claimed = insert_if_absent(conn, orders, order_row, unique=["channel", "client_order_id"])
    if not claimed:
        # A concurrent call with the same order id committed first (PostgreSQL waited for it).
        return Placed(order_id=_existing(conn, request) or order_id, replayed=True), None
    line_rows = [
        {
            "order_id": order_id,
            "line_no": line.line_no,
            "product_id": line.product_id,
            "category": line.category,
            "size": line.size,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
            "gross_minor": quoted.gross_minor,
            "discount_minor": quoted.discount_minor,
            "net_minor": quoted.net_minor,
            "points_earned": line_points if membership is not None else 0,
            "refunded_quantity": 0,
        }
        for line, quoted, line_points in zip(
            basket.lines, quote_.lines, basket.points_per_line, strict=True
        )
    ]
    conn.execute(_INSERT_LINES, line_rows)
    discount_rows = [
        {
            "order_id": order_id,
            "step": step.step,
            "line_no": line_no,
            "source": step.source,
            "coupon_id": step.coupon_id,
            "amount_minor": amount,
        }
        for step in quote_.steps
        for line_no, amount in step.per_line.items()
        if amount
    ]
    if discount_rows:
        conn.execute(_INSERT_DISCOUNTS, discount_rows)
    for coupon, _ in basket.coupons:
        redeem(
            conn,
            coupon.id,
            person_id=coupon.person_id,
            order_id=order_id,
            discount_minor=quote_.coupon_discounts.get(coupon.id, 0),
            actor=actor,
            now=now,
        )
    if wallet_minor and membership is not None:
        wallet.pay(
            conn,
            membership.id,
            wallet_minor,
            natural_key=wallet_pay_key(order_id),
            order_id=order_id,
            actor=actor,
            now=now,
        )
    if earned > 0 and membership is not None and basket.scheme is not None:
        points.earn(
            conn,
            membership.id,
            earned,
            expires_on=points_expiry(basket.scheme, basket.business_date),
            natural_key=points_earn_key(order_id),
            order_id=order_id,
            actor=actor,
            now=now,
        )
    enqueue_placed(
        conn, order_row, line_rows, discount_rows, timezone=basket.store.timezone, now=now
    )
    rows = OrderRows(order_row, line_rows, discount_rows)
    return Placed(order_id, replayed=False, rows=rows), basket


def wallet_pay_key(order_id: str) -> str:
    return f"order:{order_id}:pay"


def points_earn_key(order_id: str) -> str:
    return f"order:{order_id}:earn"


def _existing(conn: Connection, request: CheckoutRequest) -> str | None:
    return conn.execute(
        _EXISTING, {"channel": request.channel, "client_order_id": request.client_order_id}
    ).scalar_one_or_none()
