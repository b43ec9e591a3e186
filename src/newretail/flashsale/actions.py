"""What a user does to a flash sale, as the API and the console both call it: each action checks the
actor's permission, does its work in the caller's transaction and records it in the audit log there.

Reserving and paying are not here: a channel's backend calls the engine for those, at thousands a
second, and the engine's records are their trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection

from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.sale import Sale, SaleDraft
from newretail.flashsale.sales import (
    AudienceResolver,
    add_eligible,
    close_sale,
    create_sale,
    get_sale,
    mark_armed,
)
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record


def create(conn: Connection, draft: SaleDraft, *, actor: Principal, now: dt.datetime) -> Sale:
    """Create a draft sale (``flashsales.manage``)."""
    actor.require(Permission.FLASHSALES_MANAGE)
    sale = create_sale(conn, draft, now=now)
    _audit(conn, actor, Action.FLASHSALE_CREATED, sale, now, items=len(sale.items))
    return sale


def upload_list(
    conn: Connection,
    sale_id: str,
    person_ids: Iterable[str],
    *,
    actor: Principal,
    now: dt.datetime,
) -> int:
    """Add persons to a draft list sale (``flashsales.manage``); how many the list holds now."""
    actor.require(Permission.FLASHSALES_MANAGE)
    persons = add_eligible(conn, sale_id, person_ids)
    _audit(
        conn, actor, Action.FLASHSALE_LIST_UPLOADED, get_sale(conn, sale_id), now, persons=persons
    )
    return persons


def arm(
    conn: Connection,
    engine: FlashSaleEngine,
    sale_id: str,
    *,
    actor: Principal,
    now: dt.datetime,
    resolve_audience: AudienceResolver | None = None,
) -> Sale:
    """Arm a sale (``flashsales.manage``): marked armed in OLTP and loaded into ``engine``.

    The engine is loaded inside the transaction: if that fails, the sale stays a draft. Should the
    commit fail after it, arming again finds the engine loaded and changes nothing there.
    """
    actor.require(Permission.FLASHSALES_MANAGE)
    sale, eligible = mark_armed(conn, sale_id, now=now, resolve_audience=resolve_audience)
    if engine.arm(sale, eligible=eligible):
        _audit(conn, actor, Action.FLASHSALE_ARMED, sale, now, persons=len(eligible))
    return sale


def close(
    conn: Connection, engine: FlashSaleEngine, sale_id: str, *, actor: Principal, now: dt.datetime
) -> Sale:
    """End an armed sale now (``flashsales.manage``); closing it again changes nothing."""
    actor.require(Permission.FLASHSALES_MANAGE)
    before = get_sale(conn, sale_id)
    sale = close_sale(conn, engine, sale_id, now=now)
    if sale.ends_at != before.ends_at:
        _audit(conn, actor, Action.FLASHSALE_CLOSED, sale, now)
    return sale


def _audit(
    conn: Connection, actor: Principal, action: Action, sale: Sale, now: dt.datetime, **detail: int
) -> None:
    record(
        conn,
        actor=actor,
        action=action,
        at=now,
        target_type="flashsale",
        target_id=sale.id,
        detail=detail,
    )
