"""Reading and acknowledging stored alerts, as the API and the console both call them: each checks
the caller's permission and store scope (see :mod:`routing`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.oltp.supply_alert_tables import supply_alerts
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record
from newretail.supply.alerts.alert import KINDS, SEVERITIES, natural_key
from newretail.supply.alerts.routing import Route, require_acknowledge, require_visible, route
from newretail.supply.alerts.routing import visible as visible_to

STATUSES = ("open", "acknowledged", "resolved")
MAX_PAGE = 500


@dataclass(frozen=True)
class StoredAlert:
    id: int
    kind: str
    severity: str
    location_type: str
    location_id: str
    material_id: str
    business_date: dt.date
    numbers: dict[str, Any]
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str | None

    @property
    def key(self) -> str:
        return natural_key(
            self.kind, self.location_type, self.location_id, self.material_id, self.business_date
        )

    @property
    def route(self) -> Route:
        return route(self.location_type, self.location_id)


@dataclass(frozen=True)
class AlertPage:
    """One page of alerts, most severe and newest first, and how many match in all."""

    data: list[StoredAlert]
    count: int


def list_alerts(
    conn: Connection,
    principal: Principal,
    *,
    kind: str | None = None,
    status: str | None = None,
    statuses: tuple[str, ...] = (),
    location_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AlertPage:
    """The alerts ``principal`` may see that match every filter given (``status`` or any of
    ``statuses``), most severe first, then newest, then by location and material."""
    principal.require(Permission.SUPPLY_READ)
    _check_choice("kind", kind, KINDS)
    for wanted in (status, *statuses):
        _check_choice("status", wanted, STATUSES)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("supply.bad_limit", f"limit must be 1 to {MAX_PAGE}", field="limit")
    where = [visible_to(principal)]
    if kind is not None:
        where.append(supply_alerts.c.kind == kind)
    if status is not None:
        where.append(supply_alerts.c.status == status)
    if statuses:
        where.append(supply_alerts.c.status.in_(statuses))
    if location_id is not None:
        where.append(supply_alerts.c.location_id == location_id)
    count = conn.execute(select(func.count()).select_from(supply_alerts).where(*where)).scalar_one()
    rank = case({s: i for i, s in enumerate(SEVERITIES)}, value=supply_alerts.c.severity)
    rows = conn.execute(
        select(supply_alerts)
        .where(*where)
        .order_by(
            rank,
            supply_alerts.c.business_date.desc(),
            supply_alerts.c.location_type,
            supply_alerts.c.location_id,
            supply_alerts.c.material_id,
            supply_alerts.c.kind,
        )
        .limit(limit)
        .offset(offset)
    ).mappings()
    return AlertPage(data=[StoredAlert(**row) for row in rows], count=count)


def get_alert(conn: Connection, principal: Principal, alert_id: int) -> StoredAlert:
    """One alert the principal may see, or :class:`NotFound` / ``Forbidden``."""
    principal.require(Permission.SUPPLY_READ)
    found = _load(conn, alert_id)
    require_visible(principal, found.location_type, found.location_id)
    return found


def acknowledge_alert(
    conn: Connection, alert_id: int, *, actor: Principal, now: dt.datetime
) -> StoredAlert:
    """Mark an open alert acknowledged by ``actor`` (a store manager for its own stores, a planner
    for any), audited. Acknowledging again answers with the first acknowledgement; a resolved alert
    is a :class:`Conflict` (``supply.alert_resolved``)."""
    found = _load(conn, alert_id)
    require_acknowledge(actor, found.location_type, found.location_id)
    if found.status == "resolved":
        raise Conflict(
            "supply.alert_resolved",
            f"alert {alert_id} was resolved ({found.resolution}); nothing to acknowledge",
            field="alert_id",
        )
    if found.status != "open":
        return found
    acknowledged = conn.execute(
        update(supply_alerts)
        .where(supply_alerts.c.id == alert_id, supply_alerts.c.status == "open")
        .values(
            status="acknowledged",
            acknowledged_by=actor.actor,
            acknowledged_at=now,
            updated_at=now,
        )
    )
    if acknowledged.rowcount == 1:
        record(
            conn,
            actor=actor,
            action=Action.SUPPLY_ALERT_ACKNOWLEDGED,
            at=now,
            target_type="supply_alert",
            target_id=str(alert_id),
            detail={"key": found.key, "severity": found.severity},
        )
    return _load(conn, alert_id)


def _load(conn: Connection, alert_id: int) -> StoredAlert:
    row = (
        conn.execute(select(supply_alerts).where(supply_alerts.c.id == alert_id)).mappings().first()
    )
    if row is None:
        raise NotFound("supply.alert_not_found", f"no alert {alert_id}", field="alert_id")
    return StoredAlert(**row)


def _check_choice(field: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise InvalidInput(
            f"supply.bad_{field}",
            f"unknown {field} {value!r}; use one of {', '.join(choices)}",
            field=field,
        )
