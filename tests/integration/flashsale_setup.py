"""Sales created in OLTP and armed in an engine, and the orders the writer made of them, for the
flash-sale integration tests (each runs on both engines and both databases)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select
from tests.unit.flashsale.engines import START, a_sale

from newretail.flashsale import (
    Eligibility,
    FlashSaleEngine,
    Reconciliation,
    SaleDraft,
    arm_sale,
    create_sale,
    reconcile,
)
from newretail.oltp.tables import flashsale_orders


def new_sale(
    database: Engine,
    engine: FlashSaleEngine,
    *,
    stock: dict[str, int],
    limit: int = 2,
    window_seconds: int = 60,
    eligible: list[str] | None = None,
) -> str:
    """Create a sale open for an hour from ``START`` and arm it; its id."""
    shape = a_sale(stock=stock, limit=limit, window_seconds=window_seconds)
    sale_id = f"fs-{uuid.uuid4().hex[:12]}"
    draft = SaleDraft(
        id=sale_id,
        name=shape.name,
        starts_at=shape.starts_at,
        ends_at=shape.ends_at,
        per_person_limit=limit,
        payment_window_seconds=window_seconds,
        channels=shape.channels,
        items=shape.items,
        eligibility=Eligibility.EVERYONE if eligible is None else Eligibility.LIST,
        eligible_person_ids=eligible or (),
    )
    with database.begin() as conn:
        create_sale(conn, draft, now=START)
    arm_sale(database, engine, sale_id, now=START)
    return sale_id


def orders(database: Engine, sale_id: str) -> dict[str, tuple[object, ...]]:
    """Every order of the sale by reservation id, as a row tuple."""
    with database.connect() as conn:
        rows = conn.execute(
            select(flashsale_orders).where(flashsale_orders.c.sale_id == sale_id)
        ).all()
    return {row.reservation_id: tuple(row) for row in rows}


def reconciled(database: Engine, engine: FlashSaleEngine, sale_id: str) -> Reconciliation:
    with database.connect() as conn:
        return reconcile(conn, engine, sale_id)
