"""Planners' decisions on a saved plan (``supply.write``, within the store scope, audited): approve
lines (named, or every pending line of a location), edit a line's packs with a reason, reject one.

A line moves proposed → edited → approved, or to rejected; an edited or rejected line may be edited
or rejected again, and approved when named. Approving puts the line on its purchase order in the
same transaction, so an approved line is ordered and final: editing or rejecting it is refused with
``supply.line_ordered``. Approving again changes nothing. Every check runs before the first write,
so a refused call leaves everything as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.model.codes import LOCATION_TYPES
from newretail.oltp.supply_tables import supply_plan_lines
from newretail.security import Action, Permission, Principal
from newretail.security.audit import record
from newretail.supply.replenish.plan_records import (
    PENDING,
    PlannedLine,
    get_plan_row,
    line_from_row,
    require_line_scope,
)
from newretail.supply.replenish.purchase_orders import order_line

MAX_PACKS = 1_000_000
MAX_REASON = 500
_L = supply_plan_lines


@dataclass(frozen=True, slots=True)
class Location:
    location_type: str  # store or warehouse
    location_id: str


@dataclass(frozen=True, slots=True)
class Approval:
    """What one approval did: the lines it approved now (not those approved before) and the
    purchase orders they went on."""

    plan_id: int
    approved: list[int]
    purchase_orders: list[int]


def approve(
    conn: Connection,
    plan_id: int,
    *,
    line_ids: Sequence[int] | None = None,
    location: Location | None = None,
    actor: Principal,
    now: dt.datetime,
) -> Approval:
    """Approve the lines ``line_ids`` name, or every pending (proposed or edited) line of
    ``location``; each line with packs goes on its purchase order."""
    actor.require(Permission.SUPPLY_WRITE)
    if (line_ids is None) == (location is None):
        raise InvalidInput(
            "supply.bad_approval", "name the lines to approve, or a location", field="line_ids"
        )
    get_plan_row(conn, plan_id, lock=True)
    if line_ids is not None:
        lines = _named_lines(conn, plan_id, line_ids)
    else:
        assert location is not None
        lines = _location_lines(conn, plan_id, location)
    for line in lines:
        require_line_scope(actor, line)
    orders: dict[int, None] = {}
    approved = []
    for line in lines:
        if line.status == "approved":
            continue
        conn.execute(
            update(_L)
            .where(_L.c.id == line.id)
            .values(status="approved", decided_by=actor.actor, decided_at=now)
        )
        approved.append(line.id)
        if line.packs > 0:
            orders[order_line(conn, line, actor=actor.actor, now=now)] = None
    if approved:
        record(
            conn,
            actor=actor,
            action=Action.SUPPLY_LINES_APPROVED,
            at=now,
            target_type="supply_plan",
            target_id=str(plan_id),
            detail={
                "lines": [str(line_id) for line_id in approved],
                "purchase_orders": [str(order_id) for order_id in orders],
                "location": f"{location.location_type}:{location.location_id}"
                if location
                else None,
            },
        )
    return Approval(plan_id, approved, list(orders))


def edit(
    conn: Connection,
    plan_id: int,
    line_id: int,
    *,
    packs: int,
    reason: str,
    actor: Principal,
    now: dt.datetime,
) -> PlannedLine:
    """Set the packs a line orders (whole packs, 0 or more) with the planner's reason; the line
    is then ``edited`` until approved."""
    actor.require(Permission.SUPPLY_WRITE)
    if isinstance(packs, bool) or not isinstance(packs, int) or not 0 <= packs <= MAX_PACKS:
        raise InvalidInput(
            "supply.bad_packs", f"packs must be a whole number from 0 to {MAX_PACKS}", field="packs"
        )
    said = _reason(reason, required=True)
    line = _open_line(conn, plan_id, line_id, actor)
    if line.status == "edited" and (line.final_packs, line.edit_reason) == (packs, said):
        return line
    conn.execute(
        update(_L)
        .where(_L.c.id == line_id)
        .values(
            status="edited",
            final_packs=packs,
            edited_by=actor.actor,
            edit_reason=said,
            reject_reason=None,
            decided_by=actor.actor,
            decided_at=now,
        )
    )
    _audit_line(conn, actor, Action.SUPPLY_LINE_EDITED, line, now, packs=packs, was=line.packs)
    return _line(conn, plan_id, line_id)


def reject(
    conn: Connection,
    plan_id: int,
    line_id: int,
    *,
    reason: str | None = None,
    actor: Principal,
    now: dt.datetime,
) -> PlannedLine:
    """Order nothing for this line; rejecting a rejected line changes nothing."""
    actor.require(Permission.SUPPLY_WRITE)
    said = _reason(reason or "", required=False)
    line = _open_line(conn, plan_id, line_id, actor)
    if line.status == "rejected":
        return line
    conn.execute(
        update(_L)
        .where(_L.c.id == line_id)
        .values(status="rejected", reject_reason=said, decided_by=actor.actor, decided_at=now)
    )
    _audit_line(conn, actor, Action.SUPPLY_LINE_REJECTED, line, now, packs=0, was=line.packs)
    return _line(conn, plan_id, line_id)


def _named_lines(conn: Connection, plan_id: int, line_ids: Sequence[int]) -> list[PlannedLine]:
    wanted = sorted(set(line_ids))
    if not wanted:
        raise InvalidInput("supply.bad_approval", "no lines named", field="line_ids")
    lines = _locked(conn, _L.c.plan_id == plan_id, _L.c.id.in_(wanted))
    missing = set(wanted) - {line.id for line in lines}
    if missing:
        raise NotFound(
            "supply.line_unknown",
            f"plan {plan_id} has no line {min(missing)}",
            field="line_ids",
        )
    return lines


def _location_lines(conn: Connection, plan_id: int, location: Location) -> list[PlannedLine]:
    if location.location_type not in LOCATION_TYPES:
        raise InvalidInput(
            "supply.bad_location_type",
            f"location type must be one of {', '.join(LOCATION_TYPES)}",
            field="location_type",
        )
    at = (
        _L.c.plan_id == plan_id,
        _L.c.location_type == location.location_type,
        _L.c.location_id == location.location_id,
    )
    if conn.execute(select(_L.c.id).where(*at).limit(1)).first() is None:
        raise NotFound(
            "supply.location_unknown",
            f"plan {plan_id} has no lines for {location.location_type} {location.location_id}",
            field="location_id",
        )
    return _locked(conn, *at, _L.c.status.in_(PENDING))


def _locked(conn: Connection, *where: ColumnElement[bool]) -> list[PlannedLine]:
    # Locked in id order, so two approvals of overlapping lines queue instead of deadlocking; the
    # second then reads the lines as the first left them.
    rows = conn.execute(select(_L).where(*where).order_by(_L.c.id).with_for_update()).mappings()
    return [line_from_row(row) for row in rows]


def _open_line(conn: Connection, plan_id: int, line_id: int, actor: Principal) -> PlannedLine:
    """The line, locked, in the actor's scope and not yet ordered."""
    get_plan_row(conn, plan_id, lock=True)
    found = _locked(conn, _L.c.plan_id == plan_id, _L.c.id == line_id)
    if not found:
        raise NotFound("supply.line_unknown", f"plan {plan_id} has no line {line_id}")
    line = found[0]
    require_line_scope(actor, line)
    if line.status == "approved":
        raise Conflict(
            "supply.line_ordered",
            f"line {line_id} is approved and on a purchase order; it can no longer change",
        )
    return line


def _line(conn: Connection, plan_id: int, line_id: int) -> PlannedLine:
    row = conn.execute(select(_L).where(_L.c.plan_id == plan_id, _L.c.id == line_id)).mappings()
    return line_from_row(row.one())


def _reason(text: str, *, required: bool) -> str | None:
    said = text.strip()
    if required and not said:
        raise InvalidInput("supply.reason_required", "say why the packs change", field="reason")
    if len(said) > MAX_REASON:
        raise InvalidInput(
            "supply.bad_reason", f"a reason has at most {MAX_REASON} characters", field="reason"
        )
    return said or None


def _audit_line(
    conn: Connection,
    actor: Principal,
    action: Action,
    line: PlannedLine,
    now: dt.datetime,
    *,
    packs: int,
    was: int,
) -> None:
    # The planner's reason stays on the line: free text has no place in the audit log.
    record(
        conn,
        actor=actor,
        action=action,
        at=now,
        target_type="supply_plan_line",
        target_id=str(line.id),
        detail={
            "plan_id": line.plan_id,
            "location": f"{line.location_type}:{line.location_id}",
            "material_id": line.material_id,
            "packs": packs,
            "was": was,
        },
    )
