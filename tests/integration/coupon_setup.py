"""Templates, persons and ledger checks for the coupon integration tests (both databases)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Engine, select

from newretail.loyalty.coupon_templates import create_template, parse_draft
from newretail.oltp.tables import coupon_events, coupons
from newretail.security import Principal, Role

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
MARKETER = Principal(user_id=1, role=Role.MARKETER)
AGENT = Principal(user_id=2, role=Role.SERVICE_AGENT)
ANALYST = Principal(user_id=3, role=Role.ANALYST)

# What the latest event of a coupon says its status is.
_STATUS_AFTER = {
    "issued": "issued",
    "reversed": "issued",
    "redeemed": "redeemed",
    "expired": "expired",
    "revoked": "revoked",
}


def new_template(database: Engine, **change: Any) -> str:
    """Create an active template (10 off 30, 14 days unless changed); its id."""
    fields: dict[str, Any] = {
        "id": f"t_{uuid.uuid4().hex[:12]}",
        "name": "满30减10",
        "name_en": "10 off 30",
        "kind": "amount_off",
        "currency": "CNY",
        "amount_off_minor": 1000,
        "threshold_minor": 3000,
        "valid_days": 14,
    }
    fields.update(change)
    draft = parse_draft({key: value for key, value in fields.items() if value is not None})
    with database.begin() as conn:
        return create_template(conn, draft, actor=MARKETER, now=NOW).id


def persons(count: int) -> list[str]:
    """``count`` person ids no other test uses."""
    prefix = uuid.uuid4().hex[:10]
    return [f"p{prefix}-{index}" for index in range(count)]


def events(database: Engine, coupon_id: str) -> list[tuple[str, str]]:
    """(kind, natural key) of the coupon's events, oldest first."""
    with database.connect() as conn:
        rows = conn.execute(
            select(coupon_events.c.kind, coupon_events.c.natural_key)
            .where(coupon_events.c.coupon_id == coupon_id)
            .order_by(coupon_events.c.id)
        )
        return [(row.kind, row.natural_key) for row in rows]


def ledger_disagreements(database: Engine) -> list[tuple[str, str, str | None]]:
    """Coupons whose status is not what their latest event says: (id, status, implied)."""
    with database.connect() as conn:
        latest: dict[str, str] = {}
        for coupon_id, kind in conn.execute(
            select(coupon_events.c.coupon_id, coupon_events.c.kind).order_by(coupon_events.c.id)
        ):
            latest[coupon_id] = kind
        return [
            (coupon_id, status, _STATUS_AFTER.get(latest.get(coupon_id, "")))
            for coupon_id, status in conn.execute(select(coupons.c.id, coupons.c.status))
            if _STATUS_AFTER.get(latest.get(coupon_id, "")) != status
        ]
