"""Replenishment plans in the OLTP: a proposal saved once per origin day and service level, and read
back line by line, with totals and per-location summaries, within the reader's store scope.

Saving the same origin and service level again is idempotent: while no line of the saved plan has a
decision (every line still ``proposed``) the new proposal replaces its lines, keeping the plan's id;
once a planner has edited, approved or rejected anything the saved plan is kept as it is, so a re-run
never overwrites a planner's work. Decisions are in :mod:`decisions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from newretail.oltp.statements import insert_if_absent
from newretail.oltp.supply_tables import supply_plan_lines, supply_plans
from newretail.security import Permission, Principal
from newretail.supply.replenish.plan_records import (
    ORDERED_PACKS,
    PENDING,
    LineFilter,
    Plan,
    PlannedLine,
    get_plan_row,
    line_from_row,
    visible,
)
from newretail.supply.replenish.plan_rows import line_rows, service_level_bp

if TYPE_CHECKING:
    # Only the draft's shape is needed here (see plan_rows).
    from newretail.supply.replenish.plan import PlanDraft

_L = supply_plan_lines


@dataclass(frozen=True, slots=True)
class SavedPlan:
    id: int
    outcome: Literal["created", "replaced", "kept"]  # kept: it has decisions, left as it was


@dataclass(frozen=True, slots=True)
class Totals:
    """Over the selected lines: ``lines`` all of them; ``order_lines``, ``packs`` and ``cost_minor``
    (per currency) what they order (edited packs where edited, nothing for rejected lines);
    ``pending`` the lines awaiting a decision; ``approved`` the lines turned into purchase orders."""

    lines: int
    order_lines: int
    packs: int
    cost_minor: dict[str, int]
    pending: int
    approved: int


@dataclass(frozen=True, slots=True)
class LocationSummary:
    location_type: str
    location_id: str
    lines: int
    pending: int


def save_plan(
    conn: Connection,
    draft: PlanDraft,
    *,
    now: dt.datetime,
    material_names: Mapping[str, str] | None = None,
) -> SavedPlan:
    """Save ``draft`` (see the module docstring for a second save); a bad line is refused with
    InvalidInput ``supply.bad_plan`` naming it, and nothing is written."""
    level = service_level_bp(draft.service_level)
    rows = line_rows(draft.lines, material_names or {})
    header = {
        "origin": draft.origin,
        "service_level_bp": level,
        "forecast_model": draft.forecast_model,
        "lines": len(rows),
        "order_lines": sum(1 for row in rows if row["proposed_packs"] > 0),
        "saved_at": now,
    }
    created = insert_if_absent(
        conn,
        supply_plans,
        {**header, "created_at": now},
        unique=("origin", "service_level_bp"),
    )
    found = supply_plans.c.origin == draft.origin, supply_plans.c.service_level_bp == level
    # The exclusive lock keeps deciders (who share it) out while the lines are replaced.
    plan_id = int(
        conn.execute(select(supply_plans.c.id).where(*found).with_for_update()).scalar_one()
    )
    if not created:
        decided = conn.execute(
            select(literal(1)).where(_L.c.plan_id == plan_id, _L.c.status != "proposed").limit(1)
        ).first()
        if decided is not None:
            return SavedPlan(plan_id, "kept")
        conn.execute(delete(_L).where(_L.c.plan_id == plan_id))
        conn.execute(update(supply_plans).where(supply_plans.c.id == plan_id).values(header))
    if rows:
        conn.execute(insert(_L), [{**row, "plan_id": plan_id} for row in rows])
    return SavedPlan(plan_id, "created" if created else "replaced")


def list_plans(
    conn: Connection, viewer: Principal, *, limit: int, offset: int
) -> tuple[list[Plan], int]:
    """Plans newest origin first (then highest service level), one page, and how many in all."""
    viewer.require(Permission.SUPPLY_READ)
    count = int(conn.execute(select(func.count()).select_from(supply_plans)).scalar_one())
    rows = conn.execute(
        select(supply_plans)
        .order_by(supply_plans.c.origin.desc(), supply_plans.c.service_level_bp.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [Plan(**row) for row in rows], count


def get_plan(conn: Connection, plan_id: int, viewer: Principal) -> Plan:
    viewer.require(Permission.SUPPLY_READ)
    return get_plan_row(conn, plan_id)


def latest_plan(conn: Connection, viewer: Principal) -> Plan | None:
    """The plan for the newest origin (its highest service level), or None before any is saved."""
    plans, _ = list_plans(conn, viewer, limit=1, offset=0)
    return plans[0] if plans else None


def list_lines(
    conn: Connection,
    plan_id: int,
    viewer: Principal,
    *,
    chosen: LineFilter,
    limit: int,
    offset: int,
) -> tuple[list[PlannedLine], int]:
    """The lines ``viewer`` may see that ``chosen`` selects: stores before DCs, then by location and
    material; one page, and how many in all."""
    viewer.require(Permission.SUPPLY_READ)
    get_plan_row(conn, plan_id)
    where = (_L.c.plan_id == plan_id, visible(viewer, chosen))
    count = int(conn.execute(select(func.count()).select_from(_L).where(*where)).scalar_one())
    rows = conn.execute(
        select(_L)
        .where(*where)
        .order_by(_L.c.location_type, _L.c.location_id, _L.c.material_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [line_from_row(row) for row in rows], count


def plan_totals(conn: Connection, plan_id: int, viewer: Principal, *, chosen: LineFilter) -> Totals:
    """What the selected lines add up to (see :class:`Totals` for each figure's definition)."""
    viewer.require(Permission.SUPPLY_READ)
    get_plan_row(conn, plan_id)
    where = (_L.c.plan_id == plan_id, visible(viewer, chosen))
    by_currency = conn.execute(
        select(
            _L.c.currency,
            func.count(),
            _count_if(ORDERED_PACKS > 0),
            func.sum(ORDERED_PACKS),
            func.sum(ORDERED_PACKS * _L.c.pack_cost_minor),
            _count_if(_L.c.status.in_(PENDING)),
            _count_if(_L.c.status == "approved"),
        )
        .where(*where)
        .group_by(_L.c.currency)
        .order_by(_L.c.currency)
    ).all()
    return Totals(
        lines=sum(int(row[1]) for row in by_currency),
        order_lines=sum(int(row[2]) for row in by_currency),
        packs=sum(int(row[3]) for row in by_currency),
        cost_minor={str(row[0]): int(row[4]) for row in by_currency},
        pending=sum(int(row[5]) for row in by_currency),
        approved=sum(int(row[6]) for row in by_currency),
    )


def plan_locations(
    conn: Connection, plan_id: int, viewer: Principal, *, chosen: LineFilter
) -> list[LocationSummary]:
    """The locations with selected lines, stores first: their line and pending counts."""
    viewer.require(Permission.SUPPLY_READ)
    rows = conn.execute(
        select(
            _L.c.location_type,
            _L.c.location_id,
            func.count(),
            _count_if(_L.c.status.in_(PENDING)),
        )
        .where(_L.c.plan_id == plan_id, visible(viewer, chosen))
        .group_by(_L.c.location_type, _L.c.location_id)
        .order_by(_L.c.location_type, _L.c.location_id)
    ).all()
    return [LocationSummary(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))
