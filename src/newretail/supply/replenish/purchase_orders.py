"""Purchase orders from approved plan lines: one order per plan, ordering location and shipper, one
order line per plan line. The plan line is the order line's natural key, so a line is ordered once
however often its approval is retried or raced."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from newretail.oltp.statements import insert_if_absent
from newretail.oltp.supply_tables import supply_purchase_order_lines, supply_purchase_orders
from newretail.security import Permission, Principal
from newretail.supply.replenish.plan_records import PlannedLine

_O = supply_purchase_orders
_OL = supply_purchase_order_lines


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    id: int
    plan_line_id: int
    material_id: str
    packs: int
    pack_size: int
    quantity: int  # base units
    currency: str
    pack_cost_minor: int
    cost_minor: int
    expected_on: dt.date


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: int
    plan_id: int
    location_type: str
    location_id: str
    from_type: str
    from_id: str
    order_date: dt.date
    created_by: str
    created_at: dt.datetime
    lines: list[PurchaseOrderLine]

    @property
    def cost_minor(self) -> dict[str, int]:
        """The order's cost per currency."""
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            totals[line.currency] += line.cost_minor
        return dict(totals)


def order_line(conn: Connection, line: PlannedLine, *, actor: str, now: dt.datetime) -> int:
    """Put an approved line on its purchase order (creating the order if need be); the order's id.

    Both inserts do nothing when the row is there already (or a racing caller wrote it first)."""
    key = {
        "plan_id": line.plan_id,
        "location_type": line.location_type,
        "location_id": line.location_id,
        "from_id": line.from_id,
    }
    insert_if_absent(
        conn,
        _O,
        {
            **key,
            "from_type": line.from_type,
            "order_date": line.order_date,
            "created_by": actor,
            "created_at": now,
        },
        unique=tuple(key),
    )
    order_id = int(
        conn.execute(select(_O.c.id).where(*(_O.c[k] == v for k, v in key.items()))).scalar_one()
    )
    insert_if_absent(
        conn,
        _OL,
        {
            "order_id": order_id,
            "plan_line_id": line.id,
            "material_id": line.material_id,
            "packs": line.packs,
            "pack_size": line.pack_size,
            "quantity": line.quantity,
            "currency": line.currency,
            "pack_cost_minor": line.pack_cost_minor,
            "cost_minor": line.cost_minor,
            "expected_on": line.arrival_date,
            "created_at": now,
        },
        unique=("plan_line_id",),
    )
    return order_id


def purchase_orders(
    conn: Connection,
    viewer: Principal,
    *,
    plan_id: int | None = None,
    location_id: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[PurchaseOrder], int]:
    """Purchase orders newest first, with their lines, one page, and how many in all; a store-scoped
    viewer sees its stores' orders only (and is refused another location's)."""
    viewer.require(Permission.SUPPLY_READ)
    where = []
    if plan_id is not None:
        where.append(_O.c.plan_id == plan_id)
    if location_id is not None:
        where.append(_O.c.location_id == location_id)
    scope = viewer.store_scope
    if scope is not None:
        if location_id is not None:
            viewer.require_store(location_id)
        where += [_O.c.location_type == "store", _O.c.location_id.in_(sorted(scope))]
    count = int(conn.execute(select(func.count()).select_from(_O).where(*where)).scalar_one())
    headers = (
        conn.execute(select(_O).where(*where).order_by(_O.c.id.desc()).limit(limit).offset(offset))
        .mappings()
        .all()
    )
    lines: dict[int, list[PurchaseOrderLine]] = defaultdict(list)
    if headers:
        rows = conn.execute(
            select(_OL)
            .where(_OL.c.order_id.in_([h["id"] for h in headers]))
            .order_by(_OL.c.material_id)
        ).mappings()
        for row in rows:
            values = {k: v for k, v in row.items() if k not in ("order_id", "created_at")}
            lines[row["order_id"]].append(PurchaseOrderLine(**values))
    return [PurchaseOrder(**header, lines=lines[header["id"]]) for header in headers], count


def orders_of_lines(conn: Connection, line_ids: list[int]) -> dict[int, int]:
    """The purchase order each of these plan lines is on (lines not ordered are left out)."""
    if not line_ids:
        return {}
    rows = conn.execute(
        select(_OL.c.plan_line_id, _OL.c.order_id).where(_OL.c.plan_line_id.in_(line_ids))
    )
    return {int(line): int(order) for line, order in rows}
