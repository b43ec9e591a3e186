"""A coupon's life: checked at checkout, redeemed at most once, reversed on refund, expired, revoked or
re-issued; every change of state appends a naturally keyed ``coupon_events`` row.

A coupon's status always equals what its latest event says: issued and reversed leave it issued,
redeemed redeemed, expired expired, revoked revoked (a reversal past the expiry writes an expired
event after it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import Connection, case, insert, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty.coupon_issue import (
    REISSUE_PREFIX,
    IssueResult,
    issue,
    record_events,
    reissue_one,
)
from newretail.loyalty.coupon_templates import CouponTemplate, template_from_row
from newretail.oltp.tables import coupon_events, coupon_templates, coupons
from newretail.security import Action, Permission, Principal
from newretail.security.audit import record

__all__ = [
    "Coupon",
    "CouponStatus",
    "IssueResult",
    "coupons_for_checkout",
    "coupons_of",
    "expire_due",
    "get_coupon",
    "issue",
    "redeem",
    "reissue",
    "reverse_redemption",
    "revoke",
]

CouponStatus = Literal["issued", "redeemed", "expired", "revoked"]
STATUSES: tuple[CouponStatus, ...] = get_args(CouponStatus)
# Expiry is a job, not a person; its events are attributed to this.
EXPIRY_ACTOR = "system:expiry"
_EXPIRE_BATCH = 10_000
_MAX_REASON = 200
_MAX_KEY = 160


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    template_id: str
    person_id: str
    status: CouponStatus
    issued_at: dt.datetime
    valid_from: dt.datetime
    expires_at: dt.datetime
    order_id: str | None
    redeemed_at: dt.datetime | None
    discount_minor: int | None


_COLUMNS = [coupons.c[field.name] for field in dataclasses.fields(Coupon)]


def get_coupon(conn: Connection, coupon_id: str) -> Coupon:
    row = conn.execute(select(*_COLUMNS).where(coupons.c.id == coupon_id)).first()
    if row is None:
        raise NotFound("coupon.unknown", f"there is no coupon {coupon_id!r}", field="coupon_id")
    return Coupon(**row._mapping)


def coupons_of(conn: Connection, person_id: str, *, status: str | None = None) -> list[Coupon]:
    """A person's coupons, newest first; only those in ``status`` when given."""
    query = select(*_COLUMNS).where(coupons.c.person_id == person_id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(
                "coupon.bad_status", f"status must be one of {', '.join(STATUSES)}", field="status"
            )
        query = query.where(coupons.c.status == status)
    rows = conn.execute(query.order_by(coupons.c.issued_at.desc(), coupons.c.id))
    return [Coupon(**row._mapping) for row in rows]


def coupons_for_checkout(
    conn: Connection, coupon_ids: Sequence[str], *, person_id: str, now: dt.datetime
) -> list[tuple[Coupon, CouponTemplate]]:
    """The chosen coupons with their templates, in the order given, if every one is the person's
    and usable at ``now``; otherwise :class:`InvalidInput` naming the first bad one
    (``coupons[i]``). Nothing is locked: :func:`redeem` settles races."""
    found = {}
    if coupon_ids:
        rows = conn.execute(
            select(*_COLUMNS, coupon_templates)
            .join(coupon_templates, coupon_templates.c.id == coupons.c.template_id)
            .where(coupons.c.id.in_(list(set(coupon_ids))))
        )
        width = len(_COLUMNS)
        for row in rows:
            coupon = Coupon(*row[:width])
            template = template_from_row(
                dict(zip(coupon_templates.c.keys(), row[width:], strict=True))
            )
            found[coupon.id] = (coupon, template)
    chosen: list[tuple[Coupon, CouponTemplate]] = []
    seen: set[str] = set()
    for index, coupon_id in enumerate(coupon_ids):
        field = f"coupons[{index}]"
        if coupon_id in seen:
            raise InvalidInput("coupon.duplicate", "the same coupon is given twice", field=field)
        seen.add(coupon_id)
        pair = found.get(coupon_id)
        if pair is None:
            raise InvalidInput("coupon.unknown", f"there is no coupon {coupon_id!r}", field=field)
        coupon, template = pair
        if coupon.person_id != person_id:
            raise InvalidInput("coupon.foreign", "this coupon belongs to someone else", field=field)
        _check_usable(coupon, template, now, field)
        chosen.append(pair)
    return chosen


def _check_usable(coupon: Coupon, template: CouponTemplate, now: dt.datetime, field: str) -> None:
    if coupon.status == "redeemed":
        raise InvalidInput("coupon.used", "this coupon has been used", field=field)
    if coupon.status == "revoked":
        raise InvalidInput("coupon.revoked", "this coupon was withdrawn", field=field)
    if coupon.status == "expired" or now >= coupon.expires_at:
        raise InvalidInput("coupon.expired", "this coupon has expired", field=field)
    if now < coupon.valid_from:
        raise InvalidInput(
            "coupon.not_yet_valid",
            f"this coupon is valid from {coupon.valid_from:%Y-%m-%d}",
            field=field,
        )
    if template.status != "active":
        raise InvalidInput(
            "coupon.template_inactive", "this offer is no longer running", field=field
        )


def redeem(
    conn: Connection,
    coupon_id: str,
    *,
    person_id: str,
    order_id: str,
    discount_minor: int,
    actor: str,
    now: dt.datetime,
) -> None:
    """Mark the coupon used on ``order_id``; of any number of racing calls exactly one wins, the
    others get Conflict ``coupon.used``. Redeeming it again on the same order changes nothing."""
    if discount_minor < 0:
        raise InvalidInput(
            "coupon.bad_discount", "discount_minor must not be negative", field="discount_minor"
        )
    # The conditional update is the lock: a racer waits for the winner's commit, then finds the
    # coupon no longer issued and updates nothing.
    claimed = conn.execute(
        update(coupons)
        .where(
            coupons.c.id == coupon_id,
            coupons.c.status == "issued",
            coupons.c.person_id == person_id,
            coupons.c.valid_from <= now,
            coupons.c.expires_at > now,
        )
        .values(
            status="redeemed", order_id=order_id, redeemed_at=now, discount_minor=discount_minor
        )
    ).rowcount
    if claimed != 1:
        _why_not_redeemed(conn, coupon_id, person_id=person_id, order_id=order_id, now=now)
        return
    conn.execute(
        insert(coupon_events).values(
            coupon_id=coupon_id,
            kind="redeemed",
            natural_key=f"redeemed:{order_id}",
            order_id=order_id,
            discount_minor=discount_minor,
            actor=actor,
            at=now,
        )
    )


def _why_not_redeemed(
    conn: Connection, coupon_id: str, *, person_id: str, order_id: str, now: dt.datetime
) -> None:
    """Raise the reason a redemption claimed nothing, unless it was this order's already."""
    coupon = get_coupon(conn, coupon_id)
    if coupon.person_id != person_id:
        raise Conflict("coupon.foreign", "this coupon belongs to someone else", field="coupon_id")
    if coupon.status == "redeemed":
        if coupon.order_id == order_id:
            return
        raise Conflict("coupon.used", "this coupon has been used", field="coupon_id")
    if coupon.status == "revoked":
        raise Conflict("coupon.revoked", "this coupon was withdrawn", field="coupon_id")
    if now < coupon.valid_from:
        raise Conflict("coupon.not_yet_valid", "this coupon is not valid yet", field="coupon_id")
    raise Conflict("coupon.expired", "this coupon has expired", field="coupon_id")


def reverse_redemption(
    conn: Connection,
    coupon_id: str,
    *,
    order_id: str,
    natural_key: str,
    actor: str,
    now: dt.datetime,
) -> Coupon:
    """Give back a coupon redeemed on ``order_id`` (a refund): issued again, or expired when its
    validity has passed at ``now``. A repeated ``natural_key`` changes nothing."""
    key = reversal_key(order_id, natural_key)
    replay = select(coupon_events.c.id).where(
        coupon_events.c.coupon_id == coupon_id, coupon_events.c.natural_key == key
    )
    if conn.execute(replay).first() is not None:
        return get_coupon(conn, coupon_id)
    before = get_coupon(conn, coupon_id)
    restored = conn.execute(
        update(coupons)
        .where(
            coupons.c.id == coupon_id,
            coupons.c.status == "redeemed",
            coupons.c.order_id == order_id,
        )
        .values(
            status=case((coupons.c.expires_at <= now, "expired"), else_="issued"),
            order_id=None,
            redeemed_at=None,
            discount_minor=None,
        )
    ).rowcount
    if restored != 1:
        if conn.execute(replay).first() is not None:  # a racing call with the same key won
            return get_coupon(conn, coupon_id)
        raise Conflict(
            "coupon.not_redeemed",
            f"coupon {coupon_id!r} is not redeemed on order {order_id!r}",
            field="coupon_id",
        )
    conn.execute(
        insert(coupon_events).values(
            coupon_id=coupon_id,
            kind="reversed",
            natural_key=key,
            order_id=order_id,
            discount_minor=before.discount_minor,
            actor=actor,
            at=now,
        )
    )
    coupon = get_coupon(conn, coupon_id)
    if coupon.status == "expired":
        _event(conn, coupon_id, "expired", actor=actor, now=now)
    return coupon


def reversal_key(order_id: str, natural_key: str) -> str:
    """The event key of a reversal: ``reversed:<order>:<key>``, with a long key replaced by its
    SHA-256 so the whole fits the 160-character column.

    >>> reversal_key("ord_1", "refund:r1")
    'reversed:ord_1:refund:r1'
    """
    key = f"reversed:{order_id}:{natural_key}"
    if len(key) <= _MAX_KEY:
        return key
    return f"reversed:{order_id}:sha256:{hashlib.sha256(natural_key.encode()).hexdigest()}"


def expire_due(conn: Connection, *, now: dt.datetime) -> int:
    """Expire every issued coupon whose validity ended by ``now``; how many. Running it again
    expires nothing more."""
    expired = 0
    while True:
        due = (
            select(coupons.c.id)
            .where(coupons.c.status == "issued", coupons.c.expires_at <= now)
            .limit(_EXPIRE_BATCH)
        )
        ids = list(
            conn.execute(
                update(coupons)
                .where(coupons.c.id.in_(due.scalar_subquery()), coupons.c.status == "issued")
                .values(status="expired")
                .returning(coupons.c.id)
            ).scalars()
        )
        if not ids:
            return expired
        record_events(conn, ids, kind="expired", actor=EXPIRY_ACTOR, now=now)
        expired += len(ids)


def revoke(conn: Connection, coupon_id: str, *, actor: Principal, now: dt.datetime) -> Coupon:
    """Withdraw an unused coupon (``loyalty.manage``, audited); revoking it again changes nothing.
    A used or expired coupon is refused (Conflict ``coupon.used`` / ``coupon.expired``)."""
    actor.require(Permission.LOYALTY_MANAGE)
    revoked = conn.execute(
        update(coupons)
        .where(coupons.c.id == coupon_id, coupons.c.status == "issued")
        .values(status="revoked")
    ).rowcount
    if revoked != 1:
        coupon = get_coupon(conn, coupon_id)
        if coupon.status == "revoked":
            return coupon
        code = "coupon.used" if coupon.status == "redeemed" else "coupon.expired"
        raise Conflict(code, f"coupon {coupon_id!r} is {coupon.status}", field="coupon_id")
    _event(conn, coupon_id, "revoked", actor=actor.actor, now=now)
    coupon = get_coupon(conn, coupon_id)
    record(
        conn,
        actor=actor,
        action=Action.COUPON_REVOKED,
        at=now,
        target_type="coupon",
        target_id=coupon_id,
        detail={"template_id": coupon.template_id},
    )
    return coupon


# A redeemed coupon comes back with its order's refund, and a revoked one was withdrawn on purpose:
# re-issuing either would hand out a benefit twice.
REISSUABLE_STATUSES = frozenset({"issued", "expired"})


def reissue(
    conn: Connection, coupon_id: str, *, actor: Principal, reason: str, now: dt.datetime
) -> Coupon:
    """A service agent's replacement of a coupon (``coupons.reissue``, audited): a new code of the
    same template for the same person, valid afresh from ``now``. The old coupon is left as it is.

    Re-issuing the same coupon again returns the same replacement. Replacements count against the
    template's budget (Conflict ``coupon_template.budget_exhausted``) but not the per-person limit.
    Only an unused or expired coupon is re-issued (Conflict ``coupon.not_reissuable``).
    """
    actor.require(Permission.COUPONS_REISSUE)
    reason = reason.strip()
    if not reason or len(reason) > _MAX_REASON:
        raise InvalidInput(
            "coupon.bad_reason", f"give a reason of 1 to {_MAX_REASON} characters", field="reason"
        )
    old = get_coupon(conn, coupon_id)
    if old.status not in REISSUABLE_STATUSES and not _replaced(conn, old):
        raise Conflict(
            "coupon.not_reissuable",
            f"a {old.status} coupon is not re-issued: only an unused or expired one is",
            field="coupon_id",
        )
    new_id, fresh = reissue_one(
        conn, old.template_id, old.person_id, old_coupon_id=coupon_id, actor=actor.actor, now=now
    )
    if fresh:
        record(
            conn,
            actor=actor,
            action=Action.COUPON_REISSUED,
            at=now,
            target_type="coupon",
            target_id=coupon_id,
            detail={"new_coupon_id": new_id, "template_id": old.template_id, "reason": reason},
        )
    return get_coupon(conn, new_id)


def _replaced(conn: Connection, old: Coupon) -> bool:
    """Whether a re-issue already replaced ``old`` (then asking again replays it)."""
    return (
        conn.execute(
            select(coupons.c.id).where(
                coupons.c.person_id == old.person_id,
                coupons.c.template_id == old.template_id,
                coupons.c.issue_key == f"{REISSUE_PREFIX}{old.id}",
            )
        ).first()
        is not None
    )


def _event(conn: Connection, coupon_id: str, kind: str, *, actor: str, now: dt.datetime) -> None:
    # A plain insert: each of these happens once in a coupon's life (the conditional updates see to
    # it), so a clash would be a bug to surface, not a retry to swallow.
    conn.execute(
        insert(coupon_events).values(
            coupon_id=coupon_id, kind=kind, natural_key=kind, actor=actor, at=now
        )
    )
