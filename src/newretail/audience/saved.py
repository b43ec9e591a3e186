"""Saved audiences in the OLTP store: their expressions, size history and frozen snapshots.

Every function works in the caller's transaction; the caller audits and commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap
from sqlalchemy import Connection, func, insert, select, update

from newretail.errors import Conflict, NotFound
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import audience_sizes, audience_snapshots, audiences
from newretail.tags.spec import Entity

# About a thousand live groups is what the seeds' chains run; past that, refreshes and the list
# page stop being interactive, so an archive comes first.
MAX_LIVE_AUDIENCES = 1_000


@dataclass(frozen=True, slots=True)
class SavedAudience:
    id: str
    name: str
    description: str
    entity: Entity
    expression: dict[str, Any]
    expression_text: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None
    size: int | None
    as_of: str | None
    index_version: int | None


@dataclass(frozen=True, slots=True)
class SizePoint:
    index_version: int
    as_of: str
    size: int
    computed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    audience_id: str
    label: str
    index_version: int
    as_of: str
    size: int
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AudienceDraft:
    name: str
    description: str
    entity: Entity
    expression: Mapping[str, Any]
    expression_text: str


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def create_audience(
    conn: Connection, draft: AudienceDraft, *, created_by: str, now: dt.datetime
) -> SavedAudience:
    """Store a checked expression under a name; Conflict ``audience.limit_reached`` past the cap."""
    live = conn.execute(
        select(func.count()).select_from(audiences).where(audiences.c.archived_at.is_(None))
    ).scalar_one()
    if live >= MAX_LIVE_AUDIENCES:
        raise Conflict(
            "audience.limit_reached",
            f"{live} audiences are live; archive one before saving another",
        )
    audience_id = new_id("aud")
    conn.execute(
        insert(audiences).values(
            id=audience_id,
            name=draft.name,
            description=draft.description,
            entity=draft.entity,
            expression=dict(draft.expression),
            expression_text=draft.expression_text,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            archived_at=None,
        )
    )
    return get_audience(conn, audience_id)


def update_audience(
    conn: Connection, audience_id: str, draft: AudienceDraft, *, now: dt.datetime
) -> SavedAudience:
    """Replace an audience's name, description and expression (its size history stays)."""
    current = get_audience(conn, audience_id)
    if current.entity != draft.entity:
        raise Conflict(
            "audience.entity_changed", "an audience cannot change between persons and stores"
        )
    conn.execute(
        update(audiences)
        .where(audiences.c.id == audience_id)
        .values(
            name=draft.name,
            description=draft.description,
            expression=dict(draft.expression),
            expression_text=draft.expression_text,
            updated_at=now,
        )
    )
    return get_audience(conn, audience_id)


def archive_audience(conn: Connection, audience_id: str, *, now: dt.datetime) -> SavedAudience:
    """Stop refreshing an audience; archiving again changes nothing."""
    get_audience(conn, audience_id)
    conn.execute(
        update(audiences)
        .where(audiences.c.id == audience_id, audiences.c.archived_at.is_(None))
        .values(archived_at=now, updated_at=now)
    )
    return get_audience(conn, audience_id)


def get_audience(conn: Connection, audience_id: str) -> SavedAudience:
    found = _read(conn, audience_ids=[audience_id], archived=True)
    if not found:
        raise NotFound("audience.unknown", f"there is no audience {audience_id!r}")
    return found[0]


def list_audiences(conn: Connection, *, archived: bool = False) -> list[SavedAudience]:
    """Audiences with their latest size, the most recently changed first."""
    return _read(conn, audience_ids=None, archived=archived)


def live_audiences(conn: Connection) -> list[SavedAudience]:
    return _read(conn, audience_ids=None, archived=False)


def _read(
    conn: Connection, *, audience_ids: Sequence[str] | None, archived: bool
) -> list[SavedAudience]:
    latest = (
        select(
            audience_sizes.c.audience_id,
            func.max(audience_sizes.c.index_version).label("index_version"),
        )
        .group_by(audience_sizes.c.audience_id)
        .subquery()
    )
    query = (
        select(audiences, audience_sizes.c.size, audience_sizes.c.as_of, latest.c.index_version)
        .outerjoin(latest, latest.c.audience_id == audiences.c.id)
        .outerjoin(
            audience_sizes,
            (audience_sizes.c.audience_id == latest.c.audience_id)
            & (audience_sizes.c.index_version == latest.c.index_version),
        )
        .order_by(audiences.c.updated_at.desc(), audiences.c.id)
    )
    if audience_ids is not None:
        query = query.where(audiences.c.id.in_(audience_ids))
    if not archived:
        query = query.where(audiences.c.archived_at.is_(None))
    return [
        SavedAudience(
            id=row.id,
            name=row.name,
            description=row.description,
            entity=row.entity,
            expression=row.expression,
            expression_text=row.expression_text,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
            size=row.size,
            as_of=row.as_of,
            index_version=row.index_version,
        )
        for row in conn.execute(query)
    ]


def size_history(conn: Connection, audience_id: str) -> list[SizePoint]:
    """The audience's size at every refresh since it was saved, oldest first."""
    get_audience(conn, audience_id)
    rows = conn.execute(
        select(audience_sizes)
        .where(audience_sizes.c.audience_id == audience_id)
        .order_by(audience_sizes.c.index_version)
    )
    return [SizePoint(r.index_version, r.as_of, r.size, r.computed_at) for r in rows]


def size_histories(
    conn: Connection, audience_ids: Sequence[str], *, last: int = 30
) -> dict[str, list[SizePoint]]:
    """The ``last`` size points of each audience (oldest first), in one query for a list page."""
    if not audience_ids:
        return {}
    rows = conn.execute(
        select(audience_sizes)
        .where(audience_sizes.c.audience_id.in_(list(audience_ids)))
        .order_by(audience_sizes.c.audience_id, audience_sizes.c.index_version)
    )
    found: dict[str, list[SizePoint]] = {audience_id: [] for audience_id in audience_ids}
    for r in rows:
        found[r.audience_id].append(SizePoint(r.index_version, r.as_of, r.size, r.computed_at))
    return {audience_id: points[-last:] for audience_id, points in found.items()}


def record_sizes(
    conn: Connection,
    sizes: Mapping[str, int],
    *,
    index_version: int,
    as_of: dt.date,
    now: dt.datetime,
) -> int:
    """One size row per audience for this tag snapshot; rows already there stay. How many went in."""
    written = 0
    for audience_id, size in sizes.items():
        written += insert_if_absent(
            conn,
            audience_sizes,
            {
                "audience_id": audience_id,
                "index_version": index_version,
                "as_of": as_of.isoformat(),
                "size": size,
                "computed_at": now,
            },
            unique=("audience_id", "index_version"),
        )
    return written


def save_snapshot(
    conn: Connection,
    audience_id: str,
    *,
    label: str,
    members: BitMap,
    index_version: int,
    as_of: dt.date,
    created_by: str,
    now: dt.datetime,
) -> Snapshot:
    """Freeze the audience's current members (dense person ids) under ``label``."""
    get_audience(conn, audience_id)
    snapshot_id = new_id("snap")
    conn.execute(
        insert(audience_snapshots).values(
            id=snapshot_id,
            audience_id=audience_id,
            label=label,
            index_version=index_version,
            as_of=as_of.isoformat(),
            size=len(members),
            members=members.serialize(),
            created_by=created_by,
            created_at=now,
        )
    )
    return get_snapshot(conn, snapshot_id)


_SNAPSHOT_COLUMNS = [c for c in audience_snapshots.c if c.name != "members"]


def get_snapshot(conn: Connection, snapshot_id: str) -> Snapshot:
    row = conn.execute(
        select(*_SNAPSHOT_COLUMNS).where(audience_snapshots.c.id == snapshot_id)
    ).first()
    if row is None:
        raise NotFound("audience.unknown_snapshot", f"there is no snapshot {snapshot_id!r}")
    return Snapshot(**row._asdict())


def list_snapshots(conn: Connection, audience_id: str) -> list[Snapshot]:
    get_audience(conn, audience_id)
    rows = conn.execute(
        select(*_SNAPSHOT_COLUMNS)
        .where(audience_snapshots.c.audience_id == audience_id)
        .order_by(audience_snapshots.c.created_at.desc(), audience_snapshots.c.id)
    )
    return [Snapshot(**row._asdict()) for row in rows]


def snapshot_members(conn: Connection, snapshot_id: str) -> BitMap:
    members = conn.execute(
        select(audience_snapshots.c.members).where(audience_snapshots.c.id == snapshot_id)
    ).scalar_one_or_none()
    if members is None:
        raise NotFound("audience.unknown_snapshot", f"there is no snapshot {snapshot_id!r}")
    return BitMap.deserialize(members)


def erase_from_snapshots(conn: Connection, dense_ids: Iterable[int]) -> int:
    """Remove erased persons from every frozen snapshot; how many snapshots changed."""
    erased = BitMap(dense_ids)
    changed = 0
    for row in conn.execute(select(audience_snapshots.c.id, audience_snapshots.c.members)).all():
        members = BitMap.deserialize(row.members)
        if not members.intersect(erased):
            continue
        members -= erased
        conn.execute(
            update(audience_snapshots)
            .where(audience_snapshots.c.id == row.id)
            .values(members=members.serialize(), size=len(members))
        )
        changed += 1
    return changed
