"""Audience questions answered on the current tag snapshots, with real-time tags live: the count
a marketer sees while typing, the overlap of two audiences, a breakdown by city, channel or
lifecycle, and the stores a store-tag expression selects (``audiences.read``). Nothing here
changes state."""

from __future__ import annotations

from fastapi import APIRouter

from newretail.api.audience_models import (
    BreakdownPublic,
    BreakdownRequest,
    CountPublic,
    CountRequest,
    ExpressionIn,
    OverlapPublic,
    OverlapRequest,
    StorePublic,
    StoreSelectionPublic,
    TagBreakdown,
    ValueCount,
)
from newretail.api.deps import CurrentPrincipal, Now, RuntimeDep
from newretail.audience import service
from newretail.audience.store_directory import store_entries
from newretail.security import Permission

router = APIRouter(prefix="/api/v1/audiences", tags=["audiences"])


@router.post("/count")
def count_audience(
    payload: CountRequest, principal: CurrentPrincipal, runtime: RuntimeDep, now: Now
) -> CountPublic:
    """How many persons (or stores) an expression selects now: the live count of the builder
    (real-time tags such as ``ordered_today`` as of this moment)."""
    principal.require(Permission.AUDIENCES_READ)
    indexes = runtime.live_indexes(now)
    compiled = service.compile_expression(
        indexes, text=payload.text, tree=payload.tree, entity=payload.entity
    )
    chosen = service.select(indexes, compiled)
    size = len(chosen.members)
    return CountPublic(
        entity=compiled.entity,
        size=size,
        universe=chosen.universe,
        share=size / chosen.universe if chosen.universe else 0.0,
        as_of=chosen.as_of,
        index_version=chosen.index_version,
        text=compiled.text,
        tree=compiled.tree,
    )


@router.post("/overlap")
def overlap_audiences(
    payload: OverlapRequest, principal: CurrentPrincipal, runtime: RuntimeDep, now: Now
) -> OverlapPublic:
    """Two person audiences side by side: each, both, either, and their Jaccard index."""
    principal.require(Permission.AUDIENCES_READ)
    indexes = runtime.live_indexes(now)
    a = service.compile_expression(
        indexes, text=payload.a.text, tree=payload.a.tree, entity="person"
    )
    b = service.compile_expression(
        indexes, text=payload.b.text, tree=payload.b.tree, entity="person"
    )
    found = service.overlap(indexes, a, b)
    return OverlapPublic(
        a=found.a,
        b=found.b,
        both=found.both,
        either=found.either,
        only_a=found.a - found.both,
        only_b=found.b - found.both,
        jaccard=found.jaccard,
        as_of=found.as_of,
        index_version=found.index_version,
    )


@router.post("/breakdown")
def break_down_audience(
    payload: BreakdownRequest, principal: CurrentPrincipal, runtime: RuntimeDep, now: Now
) -> BreakdownPublic:
    """A person audience by the values of a few enum or bool tags (city, channel, lifecycle)."""
    principal.require(Permission.AUDIENCES_READ)
    indexes = runtime.live_indexes(now)
    compiled = service.compile_expression(
        indexes, text=payload.text, tree=payload.tree, entity="person"
    )
    chosen = service.select(indexes, compiled)
    parts = service.breakdown(indexes, chosen.members, payload.by)
    return BreakdownPublic(
        size=len(chosen.members),
        as_of=chosen.as_of,
        index_version=chosen.index_version,
        breakdowns=[
            TagBreakdown(
                tag=part.spec.id,
                name_zh=part.spec.name_zh,
                name_en=part.spec.name_en,
                values=[ValueCount(value=value, count=n) for value, n in part.counts],
            )
            for part in parts
        ],
    )


@router.post("/store-selection")
def select_stores(
    payload: ExpressionIn, principal: CurrentPrincipal, runtime: RuntimeDep
) -> StoreSelectionPublic:
    """The stores a store-tag expression picks, with where they are (for the list and the map)."""
    principal.require(Permission.AUDIENCES_READ)
    indexes = runtime.indexes.get()
    compiled = service.compile_expression(
        indexes, text=payload.text, tree=payload.tree, entity="store"
    )
    chosen = service.select(indexes, compiled)
    keys = list(indexes.of("store").keys(chosen.members))
    return StoreSelectionPublic(
        size=len(chosen.members),
        universe=chosen.universe,
        as_of=chosen.as_of,
        index_version=chosen.index_version,
        text=compiled.text,
        tree=compiled.tree,
        stores=[StorePublic.model_validate(s) for s in store_entries(runtime.lake, keys)],
    )
