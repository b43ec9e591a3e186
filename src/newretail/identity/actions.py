"""Merges, un-merges, re-merges and review verdicts for a user: the role is checked, the identity
change is made and the audit log records it, all in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from newretail.errors import Conflict
from newretail.identity import manual, review
from newretail.identity.records import records_of
from newretail.lake import Lake
from newretail.oltp.tables import identity_events
from newretail.security import Permission, Principal, audit


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """A review item with both records' masked attributes (None for a record that has none)."""

    item: review.ReviewItem
    left_record: dict[str, Any] | None
    right_record: dict[str, Any] | None


def merge(
    conn: Connection,
    *,
    principal: Principal,
    keep: str,
    absorb: str,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Merge ``absorb`` into ``keep``; the new event as the history lists it."""
    principal.require(Permission.IDENTITY_MERGE)
    event_id = manual.merge_persons(
        conn, keep=keep, absorb=absorb, actor=principal.actor, reason=reason, now=now
    )
    return _audited(conn, principal, audit.Action.IDENTITY_MERGED, event_id, now)


def unmerge(
    conn: Connection,
    person_id: str,
    *,
    principal: Principal,
    now: dt.datetime,
    event_id: int | None = None,
) -> dict[str, Any]:
    """Undo the latest merge into ``person_id``, or its merge ``event_id``; the un-merge event."""
    principal.require(Permission.IDENTITY_MERGE)
    manual.live_person(conn, person_id)  # an unknown person is not found, not "never merged"
    if event_id is not None:
        into = conn.execute(
            select(identity_events.c.person_id).where(
                identity_events.c.id == event_id, identity_events.c.kind == "merge"
            )
        ).scalar()
        if into != person_id:
            raise Conflict(
                "identity.not_merged", f"event {event_id} is not a merge into person {person_id}"
            )
    undo = manual.unmerge(conn, person_id, actor=principal.actor, now=now, event_id=event_id)
    return _audited(conn, principal, audit.Action.IDENTITY_UNMERGED, undo, now)


def remerge(
    conn: Connection, unmerge_event_id: int, *, principal: Principal, now: dt.datetime
) -> dict[str, Any]:
    """Undo the un-merge ``unmerge_event_id``; the new merge event."""
    principal.require(Permission.IDENTITY_MERGE)
    event_id = manual.remerge(conn, unmerge_event_id, actor=principal.actor, now=now)
    return _audited(conn, principal, audit.Action.IDENTITY_REMERGED, event_id, now)


def reviews(
    conn: Connection,
    lake: Lake,
    *,
    principal: Principal,
    status: str = "open",
    limit: int = 50,
) -> list[ReviewPair]:
    """Review items with ``status``, most probable first, each with both records (masked). The
    queue spans the whole chain, so it is the data team's (``identity.merge``)."""
    principal.require(Permission.IDENTITY_MERGE)
    return _with_records(conn, lake, review.list_reviews(conn, status=status, limit=limit))


def decide(
    conn: Connection,
    lake: Lake,
    review_id: int,
    *,
    principal: Principal,
    approve: bool,
    now: dt.datetime,
) -> ReviewPair:
    """Approve (the two persons merge) or reject (their records are kept apart) a review item."""
    principal.require(Permission.IDENTITY_MERGE)
    item = review.decide(conn, review_id, approve=approve, actor=principal.actor, now=now)
    audit.record(
        conn,
        actor=principal,
        action=audit.Action.IDENTITY_REVIEWED,
        at=now,
        target_type="identity_review",
        target_id=str(review_id),
        detail={
            "verdict": item.status,
            "left_person": item.left_person,
            "right_person": item.right_person,
        },
    )
    return _with_records(conn, lake, [item])[0]


def _with_records(conn: Connection, lake: Lake, items: list[review.ReviewItem]) -> list[ReviewPair]:
    records = records_of(conn, lake, [key for i in items for key in (i.left, i.right)])
    shown = {(r["source"], r["source_record_id"]): r for r in records.to_pylist()}
    return [ReviewPair(i, shown.get(i.left), shown.get(i.right)) for i in items]


def _audited(
    conn: Connection,
    principal: Principal,
    action: audit.Action,
    event_id: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """Audit the event ``event_id`` (the person its records moved to is the target); the event."""
    moved_to = conn.execute(
        select(identity_events.c.person_id).where(identity_events.c.id == event_id)
    ).scalar_one()
    event = next(e for e in manual.history(conn, moved_to) if e["id"] == event_id)
    audit.record(
        conn,
        actor=principal,
        action=action,
        at=now,
        target_type="person",
        target_id=moved_to,
        detail={
            "event_id": event_id,
            "other_person_id": event["other_person_id"],
            "records_moved": event["records_moved"],
        },
    )
    return event
