"""Reading orders back: one order with its lines, pricing steps and refunds, and a person's or a
store's orders, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from newretail.errors import NotFound
from newretail.oltp.tables import order_discounts, order_lines, orders
from newretail.trade.orders import Placed
from newretail.trade.refunds import Refund, refunds_of


@dataclass(frozen=True, slots=True)
class OrderLineView:
    line_no: int
    product_id: str
    category: str
    size: str | None
    quantity: int
    unit_price_minor: int
    gross_minor: int
    discount_minor: int
    net_minor: int
    points_earned: int
    refunded_quantity: int


@dataclass(frozen=True, slots=True)
class DiscountView:
    step: int
    line_no: int
    source: str
    coupon_id: str | None
    amount_minor: int


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: str
    channel: str
    client_order_id: str
    store_id: str
    person_id: str | None
    membership_id: int | None
    status: str
    fulfilment: str
    currency: str
    gross_minor: int
    discount_minor: int
    paid_minor: int
    wallet_minor: int
    payment_method: str
    points_earned: int
    refunded_minor: int
    placed_at: dt.datetime
    business_date: dt.date


@dataclass(frozen=True, slots=True)
class OrderView:
    order: OrderSummary
    lines: list[OrderLineView]
    discounts: list[DiscountView]
    refunds: list[Refund]


@dataclass(frozen=True, slots=True)
class OrderPage:
    data: list[OrderSummary]
    count: int


def get_order(conn: Connection, order_id: str) -> OrderView:
    row = conn.execute(select(orders).where(orders.c.id == order_id)).one_or_none()
    if row is None:
        raise NotFound("order.not_found", f"no order {order_id}", field="order_id")
    lines = conn.execute(
        select(order_lines)
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.line_no)
    ).mappings()
    discounts = conn.execute(
        select(order_discounts)
        .where(order_discounts.c.order_id == order_id)
        .order_by(order_discounts.c.step, order_discounts.c.line_no)
    ).mappings()
    return _view(row._mapping, lines, discounts, refunds_of(conn, order_id))


def placed_view(conn: Connection, placed: Placed) -> OrderView:
    """The order :func:`newretail.trade.orders.place` answered with, as :func:`get_order` reads it:
    built from the rows placing it wrote, or read back when it had been placed before."""
    if placed.rows is None:
        return get_order(conn, placed.order_id)
    rows = placed.rows
    discounts = sorted(rows.discounts, key=lambda step: (step["step"], step["line_no"]))
    return _view(rows.order, rows.lines, discounts, refunds=[])


def list_orders(
    conn: Connection,
    *,
    person_ids: Collection[str] | None = None,
    store_ids: Collection[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> OrderPage:
    """Orders, newest first, of these persons and/or in these stores (None: no restriction)."""
    conditions = []
    if person_ids is not None:
        conditions.append(orders.c.person_id.in_(list(person_ids)))
    if store_ids is not None:
        conditions.append(orders.c.store_id.in_(list(store_ids)))
    count = conn.execute(select(func.count()).select_from(orders).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(orders)
        .where(*conditions)
        .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return OrderPage(data=[_summary(row._mapping) for row in rows], count=count)


def _view(
    order: Mapping[Any, Any],
    lines: Iterable[Mapping[Any, Any]],
    discounts: Iterable[Mapping[Any, Any]],
    refunds: list[Refund],
) -> OrderView:
    return OrderView(
        order=_summary(order),
        lines=[
            OrderLineView(**{name: line[name] for name in OrderLineView.__slots__})
            for line in lines
        ],
        discounts=[
            DiscountView(**{name: step[name] for name in DiscountView.__slots__})
            for step in discounts
        ],
        refunds=refunds,
    )


def _summary(values: Mapping[Any, Any]) -> OrderSummary:
    return OrderSummary(**{name: values[name] for name in OrderSummary.__slots__})
