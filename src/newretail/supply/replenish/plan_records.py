"""What a saved replenishment plan looks like when read back: the plan, its lines with their
explanation and decision, the filters the API and the console select lines by, and the store scope
every read and decision goes through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, case, func, select, true

from newretail.errors import Forbidden, InvalidInput, NotFound
from newretail.model.codes import LOCATION_TYPES
from newretail.oltp.supply_tables import supply_plan_lines, supply_plans
from newretail.security import Principal

LineStatus = Literal["proposed", "approved", "edited", "rejected"]
STATUSES: tuple[LineStatus, ...] = get_args(LineStatus)
# Lines still waiting for a planner: approving a whole location takes exactly these.
PENDING: tuple[LineStatus, ...] = ("proposed", "edited")

_L = supply_plan_lines
# The packs a line orders: the planner's after an edit, else the proposal's.
PACKS = func.coalesce(_L.c.final_packs, _L.c.proposed_packs)
# Rejected lines order nothing; every total counts only what would be (or was) ordered.
ORDERED_PACKS = case((_L.c.status == "rejected", 0), else_=PACKS)
_MILLI = frozenset({"forecast", "safety_stock", "order_up_to"})


@dataclass(frozen=True, slots=True)
class Plan:
    id: int
    origin: dt.date
    service_level_bp: int  # basis points: 9800 is a 98% service level
    forecast_model: str
    lines: int
    order_lines: int
    created_at: dt.datetime
    saved_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A saved line: the proposal, why (base units; fractional figures exact to a thousandth), and
    what the planner decided."""

    id: int
    plan_id: int
    location_type: str
    location_id: str
    material_id: str
    material_name: str
    from_type: str
    from_id: str
    order_date: dt.date
    arrival_date: dt.date
    pack_size: int
    currency: str
    pack_cost_minor: int
    forecast: Decimal
    safety_stock: Decimal
    order_up_to: Decimal
    on_hand: int
    in_transit: int
    position: int
    raw_need: int
    shelf_life_cap: int
    reason: str
    proposed_packs: int
    final_packs: int | None
    status: LineStatus
    edited_by: str | None
    edit_reason: str | None
    reject_reason: str | None
    decided_by: str | None
    decided_at: dt.datetime | None

    @property
    def packs(self) -> int:
        """The packs this line orders: the planner's after an edit, else the proposal's."""
        return self.proposed_packs if self.final_packs is None else self.final_packs

    @property
    def quantity(self) -> int:
        return self.packs * self.pack_size

    @property
    def cost_minor(self) -> int:
        return self.packs * self.pack_cost_minor


@dataclass(frozen=True, slots=True)
class LineFilter:
    """Which lines to show; None selects every value."""

    location_type: str | None = None
    location_id: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.location_type is not None and self.location_type not in LOCATION_TYPES:
            raise InvalidInput(
                "supply.bad_location_type",
                f"location type must be one of {', '.join(LOCATION_TYPES)}",
                field="location_type",
            )
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(
                "supply.bad_status",
                f"status must be one of {', '.join(STATUSES)}",
                field="status",
            )


def from_milli(value: int) -> Decimal:
    """Thousandths of a base unit as the exact decimal: 12345 is 12.345."""
    return Decimal(value).scaleb(-3)


def line_from_row(row: RowMapping) -> PlannedLine:
    values: dict[str, Any] = {
        field.name: from_milli(row[f"{field.name}_milli"])
        if field.name in _MILLI
        else row[field.name]
        for field in fields(PlannedLine)
    }
    return PlannedLine(**values)


def get_plan_row(conn: Connection, plan_id: int, *, lock: bool = False) -> Plan:
    """The plan, or NotFound ``supply.plan_unknown``. ``lock`` shares its row lock with other
    deciders and keeps out a re-save replacing its lines meanwhile (PostgreSQL; SQLite serialises
    writers anyway)."""
    query = select(supply_plans).where(supply_plans.c.id == plan_id)
    if lock:
        query = query.with_for_update(read=True)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("supply.plan_unknown", f"there is no replenishment plan {plan_id}")
    return Plan(**row)


def visible(viewer: Principal, chosen: LineFilter) -> ColumnElement[bool]:
    """The lines ``viewer`` may see that ``chosen`` selects. A store-scoped viewer sees its stores'
    lines only, and asking for a location outside its scope is refused, not answered empty."""
    scope = viewer.store_scope
    if scope is not None and chosen.location_id is not None:
        viewer.require_store(chosen.location_id)
    if scope is not None and chosen.location_type == "warehouse":
        raise _outside_scope("DCs are")
    clauses: list[ColumnElement[bool]] = [true()]
    if scope is not None:
        clauses += [_L.c.location_type == "store", _L.c.location_id.in_(sorted(scope))]
    if chosen.location_type is not None:
        clauses.append(_L.c.location_type == chosen.location_type)
    if chosen.location_id is not None:
        clauses.append(_L.c.location_id == chosen.location_id)
    if chosen.status is not None:
        clauses.append(_L.c.status == chosen.status)
    return and_(*clauses)


def require_line_scope(viewer: Principal, line: PlannedLine) -> None:
    """Raise Forbidden ``auth.store_denied`` unless ``viewer`` may see and decide ``line``."""
    if viewer.store_scope is None:
        return
    if line.location_type != "store":
        raise _outside_scope(f"DC {line.location_id} is")
    viewer.require_store(line.location_id)


def _outside_scope(what: str) -> Forbidden:
    # The code principals use for a store outside their scope: a DC is outside every store scope.
    return Forbidden("auth.store_denied", f"{what} outside your store scope")
