"""Saved audiences: save, change and archive them, their size history, frozen snapshots and
consent-honouring, audited exports. Every change takes an Idempotency-Key (``audiences.write``,
``exports.create``); the counting questions are in :mod:`audience_queries`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import FileResponse

from newretail.api.audience_models import (
    AudienceCreate,
    AudiencePublic,
    AudiencesPublic,
    ExportCreate,
    ExportPublic,
    ExpressionIn,
    SizePointPublic,
    SizesPublic,
    SnapshotCreate,
    SnapshotPublic,
    SnapshotsPublic,
)
from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.runtime import Runtime
from newretail.audience import actions, saved, service
from newretail.lake import connect_engine
from newretail.security import Permission
from newretail.tags.spec import Entity

router = APIRouter(prefix="/api/v1/audiences", tags=["audiences"])

AudienceId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


def _compile(runtime: Runtime, payload: ExpressionIn, entity: Entity) -> service.Compiled:
    return service.compile_expression(
        runtime.indexes.get(), text=payload.text, tree=payload.tree, entity=entity
    )


@router.get("")
def read_audiences(conn: DbConn, principal: CurrentPrincipal, page: Page) -> AudiencesPublic:
    """Live audiences with their size at the latest refresh, the most recently changed first."""
    principal.require(Permission.AUDIENCES_READ)
    found = saved.list_audiences(conn)
    return AudiencesPublic(
        data=[AudiencePublic.model_validate(a) for a in page.page(found)], count=len(found)
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AudiencePublic)
def create_audience(
    payload: AudienceCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Save an expression as a live audience; its size is recorded at every tag refresh (and now)."""
    principal.require(Permission.AUDIENCES_WRITE)
    compiled = _compile(runtime, payload, payload.entity)

    def work() -> AudiencePublic:
        audience = actions.create(
            conn,
            runtime.indexes.get(),
            name=payload.name,
            description=payload.description,
            compiled=compiled,
            actor=principal,
            now=now,
        )
        return AudiencePublic.model_validate(audience)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/{audience_id}")
def read_audience(
    audience_id: AudienceId, conn: DbConn, principal: CurrentPrincipal
) -> AudiencePublic:
    principal.require(Permission.AUDIENCES_READ)
    return AudiencePublic.model_validate(saved.get_audience(conn, audience_id))


@router.put("/{audience_id}", response_model=AudiencePublic)
def update_audience(
    audience_id: AudienceId,
    payload: AudienceCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Change an audience's name, description or expression; its size history stays."""
    principal.require(Permission.AUDIENCES_WRITE)
    compiled = _compile(runtime, payload, payload.entity)

    def work() -> AudiencePublic:
        actions.update(
            conn,
            audience_id,
            name=payload.name,
            description=payload.description,
            compiled=compiled,
            actor=principal,
            now=now,
        )
        return AudiencePublic.model_validate(saved.get_audience(conn, audience_id))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/{audience_id}/archive", response_model=AudiencePublic)
def archive_audience(
    audience_id: AudienceId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Stop refreshing an audience (it frees a place among the live ones)."""
    principal.require(Permission.AUDIENCES_WRITE)

    def work() -> AudiencePublic:
        audience = actions.archive(conn, audience_id, actor=principal, now=now)
        return AudiencePublic.model_validate(audience)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.get("/{audience_id}/sizes")
def read_sizes(audience_id: AudienceId, conn: DbConn, principal: CurrentPrincipal) -> SizesPublic:
    """The audience's size at every tag refresh since it was saved, oldest first."""
    principal.require(Permission.AUDIENCES_READ)
    points = saved.size_history(conn, audience_id)
    return SizesPublic(data=[SizePointPublic.model_validate(p) for p in points], count=len(points))


@router.post(
    "/{audience_id}/snapshots", status_code=status.HTTP_201_CREATED, response_model=SnapshotPublic
)
def freeze_audience(
    audience_id: AudienceId,
    payload: SnapshotCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Freeze who is in the audience now, e.g. for a campaign launch."""
    principal.require(Permission.AUDIENCES_WRITE)

    def work() -> SnapshotPublic:
        compiled = service.compile_saved(conn, runtime.indexes.get(), audience_id)
        snapshot = actions.freeze(
            conn,
            runtime.live_indexes(now),
            audience_id,
            label=payload.label,
            compiled=compiled,
            actor=principal,
            now=now,
        )
        return SnapshotPublic.model_validate(snapshot)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/{audience_id}/snapshots")
def read_snapshots(
    audience_id: AudienceId, conn: DbConn, principal: CurrentPrincipal
) -> SnapshotsPublic:
    principal.require(Permission.AUDIENCES_READ)
    found = saved.list_snapshots(conn, audience_id)
    return SnapshotsPublic(data=[SnapshotPublic.model_validate(s) for s in found], count=len(found))


@router.post(
    "/{audience_id}/exports", status_code=status.HTTP_201_CREATED, response_model=ExportPublic
)
def export_audience(
    audience_id: AudienceId,
    payload: ExportCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Write the audience's members (a named snapshot, or one taken now) to a file: masked ids,
    hashed phones or hashed device ids, only persons who said yes on ``consent``. Audited."""
    principal.require(Permission.EXPORTS_CREATE)

    def work() -> ExportPublic:
        compiled = service.compile_saved(conn, runtime.indexes.get(), audience_id)
        with connect_engine(runtime.settings.engine) as engine:
            tools = actions.ExportTools(
                indexes=runtime.live_indexes(now),
                lake=runtime.lake,
                engine=engine,
                protector=runtime.protector,
                directory=runtime.settings.exports_dir,
            )
            made = actions.export(
                conn,
                tools,
                audience_id,
                kind=payload.kind,
                consent=payload.consent,
                snapshot_id=payload.snapshot_id,
                compiled=compiled,
                actor=principal,
                now=now,
            )
        return _export_public(made)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/exports/{export_id}/file", response_class=FileResponse)
def download_export(
    export_id: AudienceId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
) -> FileResponse:
    """The export's file (its creator or an admin); every download is in the audit log."""
    path = actions.download(
        conn, export_id, directory=runtime.settings.exports_dir, actor=principal, now=now
    )
    return FileResponse(path, media_type="text/csv", filename=path.name)


def _export_public(made: actions.Export) -> ExportPublic:
    return ExportPublic(
        id=made.id,
        audience_id=made.audience_id,
        snapshot_id=made.snapshot_id,
        kind=made.kind,
        consent=made.consent,
        rows=made.rows,
        excluded_without_consent=made.excluded,
        created_at=made.created_at,
        download=f"/api/v1/audiences/exports/{made.id}/file",
    )
