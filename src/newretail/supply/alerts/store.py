"""Alerts in the OLTP store: saved by natural key (re-running a day updates, never duplicates), each
new one queued for every active webhook in the same transaction, and older alerts closed when a day
shows them superseded or no longer true."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, select, update

from newretail.oltp.statements import insert_if_absent
from newretail.oltp.supply_alert_tables import (
    supply_alert_deliveries,
    supply_alerts,
    supply_webhooks,
)
from newretail.supply.alerts.alert import Alert, Kind, natural_key

_KEY = ("kind", "location_type", "location_id", "material_id", "business_date")
UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True)
class Saved:
    """What saving a day's alerts did: ids of the alerts new to the store, how many were updated
    in place, and how many deliveries were queued."""

    new_ids: list[int]
    updated: int
    queued: int


def save_alerts(conn: Connection, alerts: Iterable[Alert], *, now: dt.datetime) -> Saved:
    """Insert each alert new by its natural key, open, with a delivery queued for every active
    webhook; update an existing one's severity and figures (its status stays)."""
    hooks = list(
        conn.execute(select(supply_webhooks.c.id).where(supply_webhooks.c.active)).scalars()
    )
    new_ids: list[int] = []
    updated = queued = 0
    for alert in alerts:
        key = {
            "kind": alert.kind,
            "location_type": alert.location_type,
            "location_id": alert.location_id,
            "material_id": alert.material_id,
            "business_date": alert.business_date,
        }
        figures = {"severity": alert.severity, "numbers": dict(alert.numbers)}
        fresh = {**key, **figures, "status": "open", "created_at": now, "updated_at": now}
        if not insert_if_absent(conn, supply_alerts, fresh, unique=_KEY):
            conn.execute(
                update(supply_alerts).where(_matches(key)).values(**figures, updated_at=now)
            )
            updated += 1
            continue
        alert_id = conn.execute(select(supply_alerts.c.id).where(_matches(key))).scalar_one()
        new_ids.append(alert_id)
        for hook in hooks:
            queued += int(
                insert_if_absent(
                    conn,
                    supply_alert_deliveries,
                    {
                        "alert_id": alert_id,
                        "webhook_id": hook,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                    },
                    unique=("alert_id", "webhook_id"),
                )
            )
    return Saved(new_ids=new_ids, updated=updated, queued=queued)


def close_stale(
    conn: Connection,
    *,
    as_of: dt.date,
    kinds: Sequence[Kind],
    current: Sequence[Alert],
    now: dt.datetime,
) -> int:
    """Resolve the unresolved alerts of ``kinds`` up to ``as_of`` that the day's ``current`` alerts
    do not repeat: ``superseded`` when the day has an alert for the same kind, location and
    material, else ``cleared``. An alert with a newer one for its kind, location and material (a
    day run out of order) is superseded too, so at most the newest of each stays unresolved.
    Returns how many were resolved."""
    if not kinds:
        return 0
    keys = {a.key for a in current}
    cells = {(a.kind, a.location_type, a.location_id, a.material_id) for a in current}
    columns = [supply_alerts.c[c] for c in _KEY[:4]]
    newer = {
        tuple(row)
        for row in conn.execute(
            select(*columns)
            .where(supply_alerts.c.business_date > as_of, supply_alerts.c.kind.in_(kinds))
            .distinct()
        )
    }
    rows = conn.execute(
        select(supply_alerts.c.id, supply_alerts.c.business_date, *columns).where(
            supply_alerts.c.status.in_(UNRESOLVED),
            supply_alerts.c.business_date <= as_of,
            supply_alerts.c.kind.in_(kinds),
        )
    ).all()
    closing: dict[str, list[int]] = {"superseded": [], "cleared": []}
    for row in rows:
        cell = (row.kind, row.location_type, row.location_id, row.material_id)
        if cell in newer or (cell in cells and natural_key(*cell, row.business_date) not in keys):
            closing["superseded"].append(row.id)
        elif cell not in cells:
            closing["cleared"].append(row.id)
    for resolution, ids in closing.items():
        if ids:
            conn.execute(
                update(supply_alerts)
                .where(supply_alerts.c.id.in_(ids))
                .values(status="resolved", resolution=resolution, resolved_at=now, updated_at=now)
            )
    return sum(len(ids) for ids in closing.values())


def _matches(key: dict[str, object]) -> ColumnElement[bool]:
    return and_(*(supply_alerts.c[column] == value for column, value in key.items()))
