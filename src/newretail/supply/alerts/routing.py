"""Who an alert is for. A store's alerts go to that store's managers and to the supply planners; a
DC's (stock or supplier deliveries) to the planners only. Store-scoped users see and acknowledge
only their stores' alerts; users with ``supply.read`` and no store scope see them all; acknowledging
outside one's own stores takes ``supply.write``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, true

from newretail.errors import Forbidden
from newretail.oltp.supply_alert_tables import supply_alerts
from newretail.security import Permission, Principal, Role


@dataclass(frozen=True)
class Route:
    """The roles an alert is addressed to, and the store whose managers are meant (if any)."""

    roles: tuple[Role, ...]
    store_id: str | None

    def as_json(self) -> dict[str, object]:
        return {"roles": [str(r) for r in self.roles], "store_id": self.store_id}


def route(location_type: str, location_id: str) -> Route:
    """Where an alert of this location goes.

    >>> route("store", "S1").as_json(), route("warehouse", "W1").as_json()
    ({'roles': ['store_manager', 'supply_planner'], 'store_id': 'S1'}, {'roles': ['supply_planner'], 'store_id': None})
    """
    if location_type == "store":
        return Route((Role.STORE_MANAGER, Role.SUPPLY_PLANNER), location_id)
    return Route((Role.SUPPLY_PLANNER,), None)


def visible(principal: Principal) -> ColumnElement[bool]:
    """The alerts ``principal`` may see, as a condition on ``supply_alerts``."""
    if not principal.can(Permission.SUPPLY_READ):
        return false()
    scope = principal.store_scope
    if scope is None:
        return true()
    if not scope:
        return false()
    return and_(
        supply_alerts.c.location_type == "store", supply_alerts.c.location_id.in_(sorted(scope))
    )


def require_visible(principal: Principal, location_type: str, location_id: str) -> None:
    """Raise :class:`Forbidden` unless ``principal`` may see an alert of this location."""
    principal.require(Permission.SUPPLY_READ)
    if principal.store_scope is None:
        return
    if location_type != "store":
        raise Forbidden("auth.store_denied", "DC alerts are for the supply planners")
    principal.require_store(location_id)


def require_acknowledge(principal: Principal, location_type: str, location_id: str) -> None:
    """Raise :class:`Forbidden` unless ``principal`` may acknowledge an alert of this location: a
    store manager its own stores' alerts, a planner (``supply.write``) any."""
    require_visible(principal, location_type, location_id)
    if principal.store_scope is None:
        principal.require(Permission.SUPPLY_WRITE)
