"""The audit log: who did what to which record, appended in the caller's transaction, and read back.

Entries carry ids, roles, store ids and field names, never passwords, secrets or customers' PII.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, true

from newretail.errors import InvalidInput
from newretail.oltp.tables import audit_log
from newretail.security.principal import Actor, Principal
from newretail.security.roles import Permission

MAX_PAGE = 500

Detail = Mapping[str, str | int | bool | list[str] | None]


class Action(StrEnum):
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    KEY_USED = "key.used"
    KEY_CREATED = "key.created"
    KEY_REVOKED = "key.revoked"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DEACTIVATED = "user.deactivated"
    EXPORT_CREATED = "export.created"
    PII_REVEALED = "pii.revealed"
    IDENTITY_MERGED = "identity.merged"
    IDENTITY_UNMERGED = "identity.unmerged"
    IDENTITY_REMERGED = "identity.remerged"
    IDENTITY_REVIEWED = "identity.reviewed"
    FLASHSALE_CREATED = "flashsale.created"
    FLASHSALE_LIST_UPLOADED = "flashsale.list_uploaded"
    FLASHSALE_ARMED = "flashsale.armed"
    FLASHSALE_CLOSED = "flashsale.closed"
    AUDIENCE_CREATED = "audience.created"
    AUDIENCE_UPDATED = "audience.updated"
    AUDIENCE_ARCHIVED = "audience.archived"
    AUDIENCE_FROZEN = "audience.frozen"
    EXPORT_DOWNLOADED = "export.downloaded"
    TAG_CREATED = "tag.created"
    SCHEME_CREATED = "loyalty.scheme_created"
    SCHEME_UPDATED = "loyalty.scheme_updated"
    POINTS_ADJUSTED = "loyalty.points_adjusted"
    WALLET_ADJUSTED = "loyalty.wallet_adjusted"
    PAID_CANCELLED = "loyalty.paid_cancelled"
    COUPON_TEMPLATE_CREATED = "coupon.template_created"
    COUPON_TEMPLATE_UPDATED = "coupon.template_updated"
    COUPONS_ISSUED = "coupon.issued"
    COUPON_REISSUED = "coupon.reissued"
    COUPON_REVOKED = "coupon.revoked"
    ORDER_REFUNDED = "order.refunded"
    SUPPLY_LINES_APPROVED = "supply.lines_approved"
    SUPPLY_LINE_EDITED = "supply.line_edited"
    SUPPLY_LINE_REJECTED = "supply.line_rejected"
    SUPPLY_ALERT_ACKNOWLEDGED = "supply.alert_acknowledged"
    SUPPLY_WEBHOOK_ADDED = "supply.webhook_added"
    SUPPLY_WEBHOOK_DEACTIVATED = "supply.webhook_deactivated"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    actor_user_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries, newest first, and how many entries match in all."""

    data: list[AuditEntry]
    count: int


def record(
    conn: Connection,
    *,
    actor: Actor | str,
    action: Action,
    at: dt.datetime,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: Detail | None = None,
) -> None:
    """Append one entry; it commits or rolls back with the action it records.

    ``actor`` is a principal, or a label (``anonymous``) when nobody could be identified.
    """
    label, user_id = (actor, None) if isinstance(actor, str) else (actor.actor, actor.user_id)
    conn.execute(
        insert(audit_log).values(
            at=at,
            actor=label,
            actor_user_id=user_id,
            action=str(action),
            target_type=target_type,
            target_id=target_id,
            detail=dict(detail or {}),
        )
    )


def record_export(
    conn: Connection, *, principal: Principal, export_id: str, kind: str, rows: int, at: dt.datetime
) -> None:
    """Audit an export (an audience file, a report); the caller has checked ``exports.create``."""
    principal.require(Permission.EXPORTS_CREATE)
    record(
        conn,
        actor=principal,
        action=Action.EXPORT_CREATED,
        at=at,
        target_type="export",
        target_id=export_id,
        detail={"kind": kind, "rows": rows},
    )


def list_audit(
    conn: Connection,
    principal: Principal,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Entries matching every filter given (``since`` inclusive, ``until`` exclusive), newest first."""
    principal.require(Permission.AUDIT_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("audit.bad_limit", f"limit must be 1 to {MAX_PAGE}", field="limit")
    if offset < 0:
        raise InvalidInput("audit.bad_offset", "offset must not be negative", field="offset")
    if since is not None and until is not None and since > until:
        raise InvalidInput("audit.bad_range", "since is after until", field="since")
    where = _filters(actor=actor, action=action, since=since, until=until)
    count = conn.execute(select(func.count()).select_from(audit_log).where(where)).scalar_one()
    rows = conn.execute(
        select(audit_log)
        .where(where)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return AuditPage(data=[AuditEntry(**row) for row in rows], count=count)


def _filters(
    *, actor: str | None, action: str | None, since: dt.datetime | None, until: dt.datetime | None
) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = [true()]
    if actor is not None:
        clauses.append(audit_log.c.actor == actor)
    if action is not None:
        clauses.append(audit_log.c.action == action)
    if since is not None:
        clauses.append(audit_log.c.at >= since)
    if until is not None:
        clauses.append(audit_log.c.at < until)
    return and_(*clauses)
