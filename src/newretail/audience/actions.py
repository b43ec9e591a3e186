"""What a user does to audiences, as the API, console and CLI all call it: each action checks the
actor's permission, works in the caller's transaction and records itself in the audit log there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select

from newretail.audience.export import Consent, ExportKind, write_export
from newretail.audience.indexes import Indexes
from newretail.audience.saved import (
    AudienceDraft,
    SavedAudience,
    Snapshot,
    archive_audience,
    create_audience,
    get_audience,
    get_snapshot,
    new_id,
    record_sizes,
    save_snapshot,
    snapshot_members,
    update_audience,
)
from newretail.audience.service import Compiled
from newretail.audience.service import select as select_members
from newretail.errors import InvalidInput, NotFound
from newretail.lake import Engine, Lake
from newretail.oltp.tables import audience_exports
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record, record_export
from newretail.security.pii import PiiProtector


@dataclass(frozen=True, slots=True)
class Export:
    id: str
    audience_id: str
    snapshot_id: str
    kind: ExportKind
    consent: Consent
    rows: int
    excluded: int
    file_name: str
    created_by: str
    created_at: dt.datetime


def _draft(name: str, description: str, compiled: Compiled) -> AudienceDraft:
    return AudienceDraft(
        name=name,
        description=description,
        entity=compiled.entity,
        expression=compiled.tree,
        expression_text=compiled.text,
    )


def create(
    conn: Connection,
    indexes: Indexes,
    *,
    name: str,
    description: str,
    compiled: Compiled,
    actor: Principal,
    now: dt.datetime,
) -> SavedAudience:
    """Save a checked expression as a live audience (``audiences.write``), with its size on the
    current snapshot as the first point of its history."""
    actor.require(Permission.AUDIENCES_WRITE)
    audience = create_audience(
        conn, _draft(name, description, compiled), created_by=actor.actor, now=now
    )
    _audit(conn, actor, Action.AUDIENCE_CREATED, audience.id, now)
    chosen = select_members(indexes, compiled)
    record_sizes(
        conn,
        {audience.id: len(chosen.members)},
        index_version=chosen.index_version,
        as_of=chosen.as_of,
        now=now,
    )
    return get_audience(conn, audience.id)


def update(
    conn: Connection,
    audience_id: str,
    *,
    name: str,
    description: str,
    compiled: Compiled,
    actor: Principal,
    now: dt.datetime,
) -> SavedAudience:
    actor.require(Permission.AUDIENCES_WRITE)
    audience = update_audience(conn, audience_id, _draft(name, description, compiled), now=now)
    _audit(conn, actor, Action.AUDIENCE_UPDATED, audience_id, now)
    return audience


def archive(
    conn: Connection, audience_id: str, *, actor: Principal, now: dt.datetime
) -> SavedAudience:
    actor.require(Permission.AUDIENCES_WRITE)
    audience = archive_audience(conn, audience_id, now=now)
    _audit(conn, actor, Action.AUDIENCE_ARCHIVED, audience_id, now)
    return audience


def freeze(
    conn: Connection,
    indexes: Indexes,
    audience_id: str,
    *,
    label: str,
    compiled: Compiled,
    actor: Principal,
    now: dt.datetime,
) -> Snapshot:
    """Take a frozen snapshot of a person audience's members now (for a campaign launch)."""
    actor.require(Permission.AUDIENCES_WRITE)
    if compiled.entity != "person":
        raise InvalidInput(
            "audience.not_persons", "only a person audience can be frozen", field="audience_id"
        )
    chosen = select_members(indexes, compiled)
    snapshot = save_snapshot(
        conn,
        audience_id,
        label=label,
        members=chosen.members,
        index_version=chosen.index_version,
        as_of=chosen.as_of,
        created_by=actor.actor,
        now=now,
    )
    _audit(conn, actor, Action.AUDIENCE_FROZEN, audience_id, now, size=snapshot.size)
    return snapshot


@dataclass(frozen=True)
class ExportTools:
    """What an export needs beyond the database: the snapshots, the lake and a way to decrypt."""

    indexes: Indexes
    lake: Lake
    engine: Engine
    protector: PiiProtector
    directory: Path


def export(
    conn: Connection,
    tools: ExportTools,
    audience_id: str,
    *,
    kind: ExportKind,
    consent: Consent,
    snapshot_id: str | None,
    compiled: Compiled,
    actor: Principal,
    now: dt.datetime,
) -> Export:
    """Write a snapshot's members to a file (taking a snapshot first unless one is named), keep
    only persons who said yes on ``consent``; audited as an export (``exports.create``)."""
    actor.require(Permission.EXPORTS_CREATE)
    actor.require(Permission.AUDIENCES_READ)
    if snapshot_id is None:
        actor.require(Permission.AUDIENCES_WRITE)
        snapshot = freeze(
            conn,
            tools.indexes,
            audience_id,
            label=f"export {kind} {now:%Y-%m-%d %H:%M}",
            compiled=compiled,
            actor=actor,
            now=now,
        )
    else:
        snapshot = get_snapshot(conn, snapshot_id)
        if snapshot.audience_id != audience_id:
            raise NotFound("audience.unknown_snapshot", f"there is no snapshot {snapshot_id!r}")
    members = snapshot_members(conn, snapshot.id)
    person_ids = list(tools.indexes.persons.keys(members))
    export_id = new_id("exp")
    file_name = f"{export_id}.csv"
    counts = write_export(
        tools.lake,
        tools.engine,
        tools.protector,
        person_ids=person_ids,
        kind=kind,
        consent=consent,
        path=tools.directory / file_name,
    )
    conn.execute(
        insert(audience_exports).values(
            id=export_id,
            audience_id=audience_id,
            snapshot_id=snapshot.id,
            kind=kind,
            consent=consent,
            rows=counts.rows,
            excluded=counts.excluded,
            file_name=file_name,
            created_by=actor.actor,
            created_at=now,
        )
    )
    record_export(conn, principal=actor, export_id=export_id, kind=kind, rows=counts.rows, at=now)
    return get_export(conn, export_id)


def get_export(conn: Connection, export_id: str) -> Export:
    row = conn.execute(select(audience_exports).where(audience_exports.c.id == export_id)).first()
    if row is None:
        raise NotFound("audience.unknown_export", f"there is no export {export_id!r}")
    return Export(**row._asdict())


def download(
    conn: Connection, export_id: str, *, directory: Path, actor: Principal, now: dt.datetime
) -> Path:
    """The export's file, for its creator or an admin; every download is audited."""
    actor.require(Permission.EXPORTS_CREATE)
    found = get_export(conn, export_id)
    if found.created_by != actor.actor and not actor.can(Permission.AUDIT_READ):
        raise NotFound("audience.unknown_export", f"there is no export {export_id!r}")
    path = directory / found.file_name
    if not path.exists():
        raise NotFound("audience.export_gone", "the export's file is no longer on the server")
    record(
        conn,
        actor=actor,
        action=Action.EXPORT_DOWNLOADED,
        at=now,
        target_type="export",
        target_id=export_id,
        detail={"rows": found.rows, "kind": found.kind},
    )
    return path


def _audit(
    conn: Connection,
    actor: Principal,
    action: Action,
    audience_id: str,
    now: dt.datetime,
    **detail: int,
) -> None:
    get_audience(conn, audience_id)
    record(
        conn,
        actor=actor,
        action=action,
        at=now,
        target_type="audience",
        target_id=audience_id,
        detail=detail,
    )
