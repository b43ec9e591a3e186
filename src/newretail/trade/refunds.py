"""Refunds and after-sales: give back some units of some lines, or the whole order, and reverse what
placing it did — wallet money, earned points and, once nothing of the order is left, its coupons.

Amounts are cumulative so that refunds in pieces add up to exactly a whole refund: refunding ``q``
more units of a line whose net is ``n`` over ``Q`` units gives ``n*(r+q)//Q - n*r//Q`` where ``r``
units were refunded before. The same rule splits the wallet's share of the order and the points.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from newretail.errors import InvalidInput, NotFound
from newretail.loyalty import points, wallet
from newretail.loyalty.coupons import reverse_redemption
from newretail.oltp.tables import coupons, order_lines, order_refunds, orders
from newretail.trade.orders import points_earn_key, wallet_pay_key
from newretail.trade.outbox import enqueue_refund

REASONS = ("late", "wrong_item", "quality", "cancelled_by_store", "changed_mind", "other")
MAX_REFUND_KEY = 128


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_no: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    order_id: str
    lines: list[tuple[int, int, int]]
    amount_minor: int
    wallet_minor: int
    points_reversed: int
    coupons_restored: list[str]
    reason: str
    at: dt.datetime
    replayed: bool


def share(total: int, done: int, more: int, whole: int) -> int:
    """The part of ``total`` that ``more`` further units out of ``whole`` carry after ``done``.

    >>> [share(1000, done, 1, 3) for done in range(3)]
    [333, 333, 334]
    """
    return total * (done + more) // whole - total * done // whole


def refund(
    conn: Connection,
    order_id: str,
    *,
    lines: Sequence[RefundLine] | None,
    refund_key: str,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Refund:
    """Refund ``lines`` of the order (all that is left when None). ``refund_key`` is the caller's
    natural key: the same key again returns the first refund and changes nothing."""
    if not refund_key or len(refund_key) > MAX_REFUND_KEY:
        raise InvalidInput(
            "refund.bad_key",
            f"a refund key is 1 to {MAX_REFUND_KEY} characters",
            field="refund_key",
        )
    if reason not in REASONS:
        raise InvalidInput(
            "refund.unknown_reason", f"reason must be one of {', '.join(REASONS)}", field="reason"
        )
    order = conn.execute(
        select(orders).where(orders.c.id == order_id).with_for_update()
    ).one_or_none()
    if order is None:
        raise NotFound("order.not_found", f"no order {order_id}", field="order_id")
    earlier = conn.execute(
        select(order_refunds).where(
            order_refunds.c.order_id == order_id, order_refunds.c.refund_key == refund_key
        )
    ).one_or_none()
    if earlier is not None:
        return _refund_of(earlier, replayed=True)
    line_rows = {
        row.line_no: row
        for row in conn.execute(select(order_lines).where(order_lines.c.order_id == order_id))
    }
    wanted = _wanted(lines, line_rows)
    if not wanted:
        raise InvalidInput("refund.nothing_left", "every unit of this order is refunded already")
    refunded_lines: list[tuple[int, int, int]] = []
    amount = points_back = 0
    for line_no, quantity in wanted:
        row = line_rows[line_no]
        line_amount = share(row.net_minor, row.refunded_quantity, quantity, row.quantity)
        points_back += share(row.points_earned, row.refunded_quantity, quantity, row.quantity)
        amount += line_amount
        refunded_lines.append((line_no, quantity, line_amount))
        conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == order_id, order_lines.c.line_no == line_no)
            .values(refunded_quantity=row.refunded_quantity + quantity)
        )
    wallet_back = (
        share(order.wallet_minor, order.refunded_minor, amount, order.paid_minor)
        if order.paid_minor
        else 0
    )
    everything_back = all(
        row.refunded_quantity + dict(wanted).get(line_no, 0) == row.quantity
        for line_no, row in line_rows.items()
    )
    refund_id = f"rf_{secrets.token_hex(8)}"
    if wallet_back and order.membership_id is not None:
        wallet.refund(
            conn,
            order.membership_id,
            wallet_back,
            pay_key=wallet_pay_key(order_id),
            natural_key=f"refund:{order_id}:{refund_key}",
            order_id=order_id,
            actor=actor,
            now=now,
        )
    points_clawed = 0
    if points_back and order.membership_id is not None:
        # Points of the order that expired meanwhile absorb the reversal first: the member lost
        # them already, so what is clawed back (and recorded) may be less than the lines' share.
        points_clawed = -points.reverse_earn(
            conn,
            order.membership_id,
            earn_key=points_earn_key(order_id),
            points=points_back,
            natural_key=f"refund:{order_id}:{refund_key}",
            actor=actor,
            now=now,
        ).amount
    restored = _restore_coupons(conn, order_id, refund_key, actor, now) if everything_back else []
    conn.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(
            refunded_minor=order.refunded_minor + amount,
            status="refunded" if everything_back else "partially_refunded",
        )
    )
    conn.execute(
        insert(order_refunds).values(
            id=refund_id,
            order_id=order_id,
            refund_key=refund_key,
            lines=[list(item) for item in refunded_lines],
            amount_minor=amount,
            wallet_minor=wallet_back,
            points_reversed=points_clawed,
            coupons_restored=restored,
            reason=reason,
            actor=actor,
            at=now,
        )
    )
    enqueue_refund(conn, refund_id, now=now)
    return Refund(
        id=refund_id,
        order_id=order_id,
        lines=refunded_lines,
        amount_minor=amount,
        wallet_minor=wallet_back,
        points_reversed=points_clawed,
        coupons_restored=restored,
        reason=reason,
        at=now,
        replayed=False,
    )


def refunds_of(conn: Connection, order_id: str) -> list[Refund]:
    rows = conn.execute(
        select(order_refunds)
        .where(order_refunds.c.order_id == order_id)
        .order_by(order_refunds.c.at, order_refunds.c.id)
    )
    return [_refund_of(row, replayed=False) for row in rows]


def _wanted(
    lines: Sequence[RefundLine] | None, line_rows: dict[int, Row[Any]]
) -> list[tuple[int, int]]:
    """(line_no, quantity) to refund, checked against what is left of each line."""
    left = {line_no: row.quantity - row.refunded_quantity for line_no, row in line_rows.items()}
    if lines is None:
        return [(line_no, quantity) for line_no, quantity in sorted(left.items()) if quantity > 0]
    if not lines:
        raise InvalidInput(
            "refund.no_lines", "name at least one line, or refund the whole order", field="lines"
        )
    wanted: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.line_no not in left:
            raise InvalidInput(
                "refund.unknown_line",
                f"the order has no line {line.line_no}",
                field=f"lines[{index}].line_no",
            )
        if line.quantity < 1:
            raise InvalidInput(
                "refund.bad_quantity",
                "a refunded quantity is at least 1",
                field=f"lines[{index}].quantity",
            )
        wanted[line.line_no] = wanted.get(line.line_no, 0) + line.quantity
        if wanted[line.line_no] > left[line.line_no]:
            raise InvalidInput(
                "refund.exceeds_order",
                f"line {line.line_no} has {left[line.line_no]} unit(s) left to refund",
                field=f"lines[{index}].quantity",
            )
    return sorted(wanted.items())


def _restore_coupons(
    conn: Connection, order_id: str, refund_key: str, actor: str, now: dt.datetime
) -> list[str]:
    coupon_ids = list(
        conn.execute(
            select(coupons.c.id)
            .where(coupons.c.order_id == order_id, coupons.c.status == "redeemed")
            .order_by(coupons.c.id)
        ).scalars()
    )
    for coupon_id in coupon_ids:
        reverse_redemption(
            conn,
            coupon_id,
            order_id=order_id,
            natural_key=f"refund:{refund_key}",
            actor=actor,
            now=now,
        )
    return coupon_ids


def _refund_of(row: Row[Any], *, replayed: bool) -> Refund:
    values = row._mapping
    return Refund(
        id=values["id"],
        order_id=values["order_id"],
        lines=[(item[0], item[1], item[2]) for item in values["lines"]],
        amount_minor=values["amount_minor"],
        wallet_minor=values["wallet_minor"],
        points_reversed=values["points_reversed"],
        coupons_restored=list(values["coupons_restored"]),
        reason=values["reason"],
        at=values["at"],
        replayed=replayed,
    )
