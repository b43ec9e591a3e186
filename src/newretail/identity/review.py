"""The review queue: record pairs in the grey zone of match probability, approved or rejected by a
person; a verdict becomes a decision every later run honours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, func, select, update

from newretail.errors import Conflict, NotFound
from newretail.identity.manual import keep_apart, merge_persons, person_of
from newretail.oltp.bulk import upsert_rows
from newretail.oltp.tables import identity_review


@dataclass(frozen=True)
class ReviewItem:
    id: int
    left: tuple[str, str]
    right: tuple[str, str]
    left_person: str | None
    right_person: str | None
    match_probability: float
    match_weight: float
    status: str


def queue_for_review(conn: Connection, pairs: pa.Table, *, run_id: int, now: dt.datetime) -> int:
    """Add grey-zone pairs not queued before (a decided pair is never asked again)."""
    if pairs.num_rows == 0:
        return 0
    before = _review_count(conn)
    n = pairs.num_rows
    rows = (
        pairs.append_column("status", pa.array(["open"] * n))
        .append_column("run_id", pa.array([run_id] * n, pa.int32()))
        .append_column("created_at", pa.array([now] * n, pa.timestamp("us", tz="UTC")))
    )
    upsert_rows(
        conn,
        identity_review,
        rows,
        ("left_source", "left_record_id", "right_source", "right_record_id"),
        update=False,
    )
    return _review_count(conn) - before


def _review_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(identity_review)).scalar_one())


def list_reviews(conn: Connection, *, status: str = "open", limit: int = 50) -> list[ReviewItem]:
    rows = conn.execute(
        select(identity_review)
        .where(identity_review.c.status == status)
        .order_by(identity_review.c.match_probability.desc(), identity_review.c.id)
        .limit(limit)
    ).all()
    return [_from_row(conn, r) for r in rows]


def decide(
    conn: Connection, review_id: int, *, approve: bool, actor: str, now: dt.datetime
) -> ReviewItem:
    """Approve (the two records' persons merge) or reject (they are kept apart from now on)."""
    row = conn.execute(
        select(identity_review).where(identity_review.c.id == review_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("identity.review_not_found", f"no review item {review_id}")
    if row.status != "open":
        raise Conflict(
            "identity.review_decided", f"review item {review_id} is already {row.status}"
        )
    left, right = (row.left_source, row.left_record_id), (row.right_source, row.right_record_id)
    left_person, right_person = person_of(conn, *left), person_of(conn, *right)
    if left_person is None or right_person is None:
        raise Conflict("identity.review_stale", "a record of this pair is no longer linked; re-run")
    if approve and left_person != right_person:
        merge_persons(
            conn,
            keep=right_person,
            absorb=left_person,
            actor=actor,
            reason=f"review {review_id} approved",
            now=now,
        )
    if not approve:
        keep_apart(conn, [left], [right], actor=actor, now=now)
    conn.execute(
        update(identity_review)
        .where(identity_review.c.id == review_id)
        .values(status="approved" if approve else "rejected", decided_by=actor, decided_at=now)
    )
    return _item(conn, review_id)


def _item(conn: Connection, review_id: int) -> ReviewItem:
    return _from_row(
        conn, conn.execute(select(identity_review).where(identity_review.c.id == review_id)).one()
    )


def _from_row(conn: Connection, r: Any) -> ReviewItem:
    return ReviewItem(
        id=r.id,
        left=(r.left_source, r.left_record_id),
        right=(r.right_source, r.right_record_id),
        left_person=person_of(conn, r.left_source, r.left_record_id),
        right_person=person_of(conn, r.right_source, r.right_record_id),
        match_probability=r.match_probability,
        match_weight=r.match_weight,
        status=r.status,
    )
