"""The webhooks alerts are sent to (``supply.write``): added with a signing secret the platform makes
and shows once (it is kept encrypted under the platform key), listed, and deactivated; a deactivated
webhook's undelivered alerts are marked failed, so nothing waits for it. Adding and deactivating are
audited (the URL's host only: a URL may carry a token)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from newretail.errors import InvalidInput, NotFound
from newretail.oltp.supply_alert_tables import supply_alert_deliveries, supply_webhooks
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record
from newretail.security.pii import PiiProtector

_MAX_URL = 2000


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    description: str
    active: bool
    created_by: str
    created_at: dt.datetime
    deactivated_by: str | None
    deactivated_at: dt.datetime | None


@dataclass(frozen=True)
class NewWebhook:
    """A webhook just added and its signing secret, shown this once."""

    webhook: Webhook
    secret: str


_COLUMNS = [supply_webhooks.c[name] for name in Webhook.__dataclass_fields__]


def add_webhook(
    conn: Connection,
    *,
    url: str,
    description: str,
    actor: Principal,
    protector: PiiProtector,
    now: dt.datetime,
) -> NewWebhook:
    """Add an active webhook for ``url`` (http or https) with a new signing secret."""
    actor.require(Permission.SUPPLY_WRITE)
    _check_url(url)
    secret = secrets.token_urlsafe(32)
    webhook_id = conn.execute(
        insert(supply_webhooks)
        .values(
            url=url,
            description=description,
            secret_cipher=protector.encrypt(secret),
            active=True,
            created_by=actor.actor,
            created_at=now,
        )
        .returning(supply_webhooks.c.id)
    ).scalar_one()
    record(
        conn,
        actor=actor,
        action=Action.SUPPLY_WEBHOOK_ADDED,
        at=now,
        target_type="supply_webhook",
        target_id=str(webhook_id),
        detail={"host": urlsplit(url).hostname},
    )
    return NewWebhook(webhook=_load(conn, webhook_id), secret=secret)


def list_webhooks(conn: Connection, principal: Principal) -> list[Webhook]:
    """Every webhook, active ones first, then oldest first."""
    principal.require(Permission.SUPPLY_WRITE)
    rows = conn.execute(
        select(*_COLUMNS).order_by(supply_webhooks.c.active.desc(), supply_webhooks.c.id)
    ).mappings()
    return [Webhook(**row) for row in rows]


def deactivate_webhook(
    conn: Connection, webhook_id: int, *, actor: Principal, now: dt.datetime
) -> Webhook:
    """Stop sending to a webhook (again: no change); its pending deliveries are marked failed."""
    actor.require(Permission.SUPPLY_WRITE)
    if not _load(conn, webhook_id).active:
        return _load(conn, webhook_id)
    conn.execute(
        update(supply_webhooks)
        .where(supply_webhooks.c.id == webhook_id)
        .values(active=False, deactivated_by=actor.actor, deactivated_at=now)
    )
    conn.execute(
        update(supply_alert_deliveries)
        .where(
            supply_alert_deliveries.c.webhook_id == webhook_id,
            supply_alert_deliveries.c.status == "pending",
        )
        .values(status="failed", last_error="webhook deactivated")
    )
    record(
        conn,
        actor=actor,
        action=Action.SUPPLY_WEBHOOK_DEACTIVATED,
        at=now,
        target_type="supply_webhook",
        target_id=str(webhook_id),
    )
    return _load(conn, webhook_id)


def _load(conn: Connection, webhook_id: int) -> Webhook:
    row = (
        conn.execute(select(*_COLUMNS).where(supply_webhooks.c.id == webhook_id)).mappings().first()
    )
    if row is None:
        raise NotFound("supply.webhook_not_found", f"no webhook {webhook_id}", field="webhook_id")
    return Webhook(**row)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if len(url) > _MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "supply.bad_webhook_url",
            f"a webhook URL is http:// or https:// with a host, at most {_MAX_URL} characters",
            field="url",
        )
