"""The tag catalogue: every shipped and user-defined tag with its definition and, once computed,
its coverage and value distribution on the current snapshot (``audiences.read``); users add tags
(``audiences.write``), computed from the next refresh on."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from newretail.api.audience_models import (
    BucketPublic,
    DistributionPublic,
    EntityName,
    TagCreate,
    TagPublic,
    TagsPublic,
)
from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.audience.indexes import Indexes
from newretail.errors import Conflict, NotFound
from newretail.security import Permission
from newretail.security.audit import Action, record
from newretail.tags.catalogue import Catalogue
from newretail.tags.index import TagIndex
from newretail.tags.spec import TagSpec
from newretail.tags.user_tags import add_user_tag, user_tags
from newretail.tags.validate import check_user_tag

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])

TagIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


@router.get("")
def read_tags(
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    page: Page,
    entity: EntityName = "person",
    category: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of an id or name.")] = None,
) -> TagsPublic:
    """The catalogue, in catalogue order, with coverage and distributions where computed."""
    principal.require(Permission.AUDIENCES_READ)
    index = _index(runtime.indexes.get_or_none(), entity)
    needle = (q or "").lower()
    specs = [
        spec
        for spec in Catalogue.shipped().with_tags(user_tags(conn)).for_entity(entity)
        if category in (None, spec.category)
        and (not needle or needle in f"{spec.id} {spec.name_en} {spec.name_zh}".lower())
    ]
    return TagsPublic(
        data=[_public(spec, index, detail=False) for spec in page.page(specs)],
        count=len(specs),
        as_of=None if index is None else index.as_of,
        index_version=None if index is None else index.version,
    )


@router.get("/{entity}/{tag_id}")
def read_tag(
    entity: EntityName,
    tag_id: TagIdPath,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> TagPublic:
    """One tag: its definition, coverage and value distribution."""
    principal.require(Permission.AUDIENCES_READ)
    spec = Catalogue.shipped().with_tags(user_tags(conn)).tag(tag_id)
    if spec is None or spec.entity != entity:
        raise NotFound("tags.unknown", f"there is no {entity} tag {tag_id!r}")
    return _public(spec, _index(runtime.indexes.get_or_none(), entity), detail=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TagPublic)
def create_tag(
    payload: TagCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Add a tag defined by an expression over the entity's features; it is computed from the
    next tag refresh on."""
    principal.require(Permission.AUDIENCES_WRITE)
    spec = TagSpec(
        id=payload.id,
        name_zh=payload.name_zh,
        name_en=payload.name_en,
        category=payload.category,
        entity=payload.entity,
        value_type=payload.value_type,
        definition=payload.definition,
        description_zh=payload.description_zh,
        description_en=payload.description_en,
        values=tuple(payload.values),
        unit=payload.unit,
        owner=principal.actor,
    )

    def work() -> TagPublic:
        # Checked against the whole catalogue (ids, types, domains), then its definition against
        # the entity's features: a bad tag must never reach the nightly refresh.
        existing = user_tags(conn)
        if Catalogue.shipped().with_tags(existing).tag(spec.id) is not None:
            raise Conflict("tags.duplicate", f"a tag {spec.id!r} already exists")
        Catalogue.shipped().with_tags([*existing, spec])
        check_user_tag(spec)
        add_user_tag(conn, spec, created_by=principal.actor, now=now)
        record(
            conn,
            actor=principal,
            action=Action.TAG_CREATED,
            at=now,
            target_type="tag",
            target_id=spec.id,
        )
        return _public(spec, None, detail=False)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


def _index(indexes: Indexes | None, entity: EntityName) -> TagIndex | None:
    if indexes is None:
        return None
    return indexes.persons if entity == "person" else indexes.stores


def _public(spec: TagSpec, index: TagIndex | None, *, detail: bool) -> TagPublic:
    computed = index is not None and spec.id in index.tag_ids
    coverage = distribution = None
    if computed and index is not None:
        coverage = index.coverage(spec.id)
        found = index.distribution(spec.id)
        distribution = DistributionPublic(
            count=found.count,
            counts=found.counts,
            minimum=found.minimum,
            maximum=found.maximum,
            quantiles=found.quantiles,
            histogram=[BucketPublic.model_validate(b) for b in found.histogram] if detail else [],
        )
    fields = dataclasses.asdict(spec)
    fields["values"] = list(spec.values)
    return TagPublic(**fields, computed=computed, coverage=coverage, distribution=distribution)
