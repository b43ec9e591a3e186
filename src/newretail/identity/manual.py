"""Merges and un-merges made by hand (or by a review verdict): each is an event that records every
record it moved and how that record was linked before, so it can be undone exactly, and a
constraint, so the nightly run keeps the decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from newretail.errors import Conflict, NotFound
from newretail.oltp.tables import (
    identity_constraints,
    identity_events,
    identity_links,
    identity_persons,
)


def person_of(conn: Connection, source: str, record_id: str) -> str | None:
    value = conn.execute(
        select(identity_links.c.person_id).where(
            identity_links.c.source == source, identity_links.c.source_record_id == record_id
        )
    ).scalar()
    return None if value is None else str(value)


def live_person(conn: Connection, person_id: str) -> str:
    """The active person an id stands for now: a retired id leads to the person it was merged into."""
    seen: set[str] = set()
    current = person_id
    while True:
        row = conn.execute(
            select(identity_persons.c.status, identity_persons.c.retired_into).where(
                identity_persons.c.person_id == current
            )
        ).first()
        if row is None:
            raise NotFound("identity.person_not_found", f"no person {person_id}")
        if row.status != "retired" or row.retired_into is None or current in seen:
            return current
        seen.add(current)
        current = str(row.retired_into)


def _records_of(conn: Connection, person_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(
                identity_links.c.source,
                identity_links.c.source_record_id,
                identity_links.c.reason_kind,
                identity_links.c.reason,
                identity_links.c.match_weight,
            )
            .where(identity_links.c.person_id == person_id)
            .order_by(identity_links.c.source, identity_links.c.source_record_id)
        ).all()
    )


def merge_persons(
    conn: Connection, *, keep: str, absorb: str, actor: str, reason: str, now: dt.datetime
) -> int:
    """Move every record of ``absorb`` to ``keep`` and retire ``absorb``; returns the event id."""
    if keep == absorb:
        raise Conflict("identity.same_person", "a person cannot be merged with itself")
    for person in (keep, absorb):
        if live_person(conn, person) != person:
            raise Conflict("identity.person_retired", f"person {person} was merged into another")
    moved = _records_of(conn, absorb)
    kept = _records_of(conn, keep)
    moves = [
        [r.source, r.source_record_id, absorb, keep, r.reason_kind, r.reason, r.match_weight]
        for r in moved
    ]
    event_id = _event(conn, "merge", actor, keep, absorb, moves, reason, now)
    _move(conn, moves, to_index=3, reason_kind="manual", reason=f"merged by {actor}", now=now)
    _set_person(conn, absorb, status="retired", retired_into=keep, now=now)
    _constraint(conn, "must", kept, moved, event_id, actor, now)
    return event_id


def keep_apart(
    conn: Connection,
    left: list[tuple[str, str]],
    right: list[tuple[str, str]],
    *,
    actor: str,
    now: dt.datetime,
    event_id: int | None = None,
) -> None:
    conn.execute(
        insert(identity_constraints).values(
            kind="cannot",
            left_records=[list(r) for r in left],
            right_records=[list(r) for r in right],
            event_id=event_id,
            created_by=actor,
            created_at=now,
            active=True,
        )
    )


def unmerge(
    conn: Connection, person_id: str, *, actor: str, now: dt.datetime, event_id: int | None = None
) -> int:
    """Undo the latest merge into ``person_id`` (or the merge ``event_id``): the absorbed person
    comes back with exactly the records, and links, it had. Returns the un-merge event's id."""
    live_person(conn, person_id)  # an unknown person is not found, not "never merged"
    event = _merge_event(conn, person_id, event_id)
    if event.person_id != person_id:
        raise Conflict(
            "identity.not_merged", f"event {event.id} did not merge into person {person_id}"
        )
    moves = [list(m) for m in event.moves]
    current = {
        (s, r): p
        for s, r, p in conn.execute(
            select(
                identity_links.c.source,
                identity_links.c.source_record_id,
                identity_links.c.person_id,
            ).where(identity_links.c.person_id == event.person_id)
        ).all()
    }
    back = [m for m in moves if current.get((m[0], m[1])) == event.person_id]
    if not back:
        raise Conflict(
            "identity.nothing_to_unmerge", "the merged records have since moved elsewhere"
        )
    undo = _event(
        conn,
        "unmerge",
        actor,
        event.other_person_id,
        event.person_id,
        [[m[0], m[1], m[3], m[2], *m[4:]] for m in back],
        f"undoes event {event.id}",
        now,
        undoes=event.id,
    )
    for m in back:
        values: dict[str, Any] = {"person_id": m[2], "linked_at": now}
        if len(m) >= 7:
            values.update(reason_kind=m[4], reason=m[5], match_weight=m[6])
        conn.execute(
            update(identity_links)
            .where(identity_links.c.source == m[0], identity_links.c.source_record_id == m[1])
            .values(**values)
        )
    _set_person(conn, event.other_person_id, status="active", retired_into=None, now=now)
    conn.execute(
        update(identity_events).where(identity_events.c.id == event.id).values(undone_by=undo)
    )
    conn.execute(
        update(identity_constraints)
        .where(identity_constraints.c.event_id == event.id)
        .values(active=False)
    )
    stay = [(s, r) for s, r, *_ in current if (s, r) not in {(m[0], m[1]) for m in back}]
    keep_apart(conn, stay, [(m[0], m[1]) for m in back], actor=actor, now=now, event_id=undo)
    return undo


def remerge(conn: Connection, unmerge_event_id: int, *, actor: str, now: dt.datetime) -> int:
    """Undo an un-merge: the records go back together, as the original merge had them."""
    row = conn.execute(
        select(identity_events).where(identity_events.c.id == unmerge_event_id)
    ).first()
    if row is None or row.kind != "unmerge":
        raise NotFound("identity.event_not_found", f"no un-merge event {unmerge_event_id}")
    if row.undone_by is not None:
        raise Conflict("identity.already_undone", f"event {unmerge_event_id} was already undone")
    conn.execute(
        update(identity_constraints)
        .where(identity_constraints.c.event_id == unmerge_event_id)
        .values(active=False)
    )
    event_id = merge_persons(
        conn,
        keep=row.other_person_id,
        absorb=row.person_id,
        actor=actor,
        reason=f"re-merge undoing event {unmerge_event_id}",
        now=now,
    )
    conn.execute(
        update(identity_events)
        .where(identity_events.c.id == unmerge_event_id)
        .values(undone_by=event_id)
    )
    return event_id


def history(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    """Every merge, split, un-merge and re-merge that involved the person, newest first."""
    rows = conn.execute(
        select(identity_events)
        .where(
            (identity_events.c.person_id == person_id)
            | (identity_events.c.other_person_id == person_id)
        )
        .order_by(identity_events.c.id.desc())
    ).all()
    return [
        {
            "id": r.id,
            "at": r.at,
            "kind": r.kind,
            "actor": r.actor,
            "person_id": r.person_id,
            "other_person_id": r.other_person_id,
            "records_moved": len(r.moves),
            "reason": r.reason,
            "undoes": r.undoes,
            "undone_by": r.undone_by,
        }
        for r in rows
    ]


def _merge_event(conn: Connection, person_id: str, event_id: int | None) -> Any:
    query = select(identity_events).where(
        identity_events.c.kind == "merge", identity_events.c.undone_by.is_(None)
    )
    if event_id is not None:
        query = query.where(identity_events.c.id == event_id)
    else:
        query = query.where(identity_events.c.person_id == person_id)
    row = conn.execute(query.order_by(identity_events.c.id.desc()).limit(1)).first()
    if row is None:
        raise Conflict(
            "identity.not_merged",
            f"person {person_id} has no merge to undo"
            if event_id is None
            else f"event {event_id} is not a merge that can be undone",
        )
    return row


def _event(
    conn: Connection,
    kind: str,
    actor: str,
    person: str,
    other: str,
    moves: list[list[Any]],
    reason: str,
    now: dt.datetime,
    undoes: int | None = None,
) -> int:
    return int(
        conn.execute(
            insert(identity_events)
            .values(
                at=now,
                kind=kind,
                actor=actor,
                person_id=person,
                other_person_id=other,
                moves=moves,
                reason=reason,
                undoes=undoes,
            )
            .returning(identity_events.c.id)
        ).scalar_one()
    )


def _move(
    conn: Connection,
    moves: list[list[Any]],
    *,
    to_index: int,
    reason_kind: str,
    reason: str,
    now: dt.datetime,
) -> None:
    for m in moves:
        conn.execute(
            update(identity_links)
            .where(identity_links.c.source == m[0], identity_links.c.source_record_id == m[1])
            .values(
                person_id=m[to_index],
                reason_kind=reason_kind,
                reason=reason,
                match_weight=None,
                linked_at=now,
            )
        )


def _set_person(
    conn: Connection, person_id: str, *, status: str, retired_into: str | None, now: dt.datetime
) -> None:
    conn.execute(
        update(identity_persons)
        .where(identity_persons.c.person_id == person_id)
        .values(status=status, retired_into=retired_into, updated_at=now)
    )


def _constraint(
    conn: Connection,
    kind: str,
    left: list[Any],
    right: list[Any],
    event_id: int,
    actor: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        insert(identity_constraints).values(
            kind=kind,
            left_records=[[r.source, r.source_record_id] for r in left],
            right_records=[[r.source, r.source_record_id] for r in right],
            event_id=event_id,
            created_by=actor,
            created_at=now,
            active=True,
        )
    )
