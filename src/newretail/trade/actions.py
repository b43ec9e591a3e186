"""What staff and channels do to an order, as the API and the console both call it: each action checks
the actor's permission and store scope, does its work in the caller's transaction and records it in
the audit log there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, select

from newretail.errors import NotFound
from newretail.oltp.tables import orders
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record
from newretail.trade.refunds import Refund, RefundLine, refund


def refund_order(
    conn: Connection,
    order_id: str,
    *,
    lines: Sequence[RefundLine] | None,
    refund_key: str,
    reason: str,
    actor: Principal,
    now: dt.datetime,
) -> Refund:
    """Refund an order (``orders.refund``, within the actor's stores); audited once, not on replay."""
    actor.require(Permission.ORDERS_REFUND)
    store_id = conn.execute(select(orders.c.store_id).where(orders.c.id == order_id)).scalar()
    if store_id is None:
        raise NotFound("order.not_found", f"no order {order_id}", field="order_id")
    actor.require_store(store_id)
    done = refund(
        conn,
        order_id,
        lines=lines,
        refund_key=refund_key,
        reason=reason,
        actor=actor.actor,
        now=now,
    )
    if not done.replayed:
        record(
            conn,
            actor=actor,
            action=Action.ORDER_REFUNDED,
            target_type="order",
            target_id=order_id,
            detail={"refund_id": done.id, "amount_minor": done.amount_minor},
            at=now,
        )
    return done
