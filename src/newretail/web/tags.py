"""The tag catalogue in the console: every person or store tag with its coverage on the current
snapshot (filters by entity, category and a search), and a page per tag with its exact definition
and the distribution of its values. Users with ``audiences.write`` add tags from the catalogue page
(the page's script calls ``POST /api/v1/tags``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from newretail.audience.indexes import Indexes
from newretail.security import Permission
from newretail.tags.index import Distribution, TagIndex
from newretail.tags.spec import CATEGORIES, ENTITIES, VALUE_TYPES, Entity, TagSpec
from newretail.web.audience_deps import IndexesDep, catalogue_with_users, gate, script_json
from newretail.web.deps import LanguageDep, OltpDep, VisitorDep
from newretail.web.i18n import Language, translate
from newretail.web.tag_view import (
    format_value,
    tag_description,
    tag_name,
    unit_label,
    value_label,
)

router = APIRouter()
TagIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
# Figures of the catalogue and tag pages, each with a definition (def.tags.<key>) in the glossary.
DEFINITIONS = ("coverage", "computed", "as_of", "version", "distribution", "quantiles", "user_tag")


@router.get("/tags", response_class=HTMLResponse)
def tags_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    indexes: IndexesDep,
    entity: Annotated[str, Query(max_length=16)] = "person",
    category: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="tags")
    if isinstance(show, Response):
        return show
    assert visitor is not None
    chosen: Entity = "store" if entity == "store" else "person"
    with oltp.connect() as conn:
        specs = catalogue_with_users(conn).for_entity(chosen)
    categories = [c for c in CATEGORIES if any(s.category == c for s in specs)]
    needle = q.strip().lower()
    shown = [
        spec
        for spec in specs
        if category in ("", spec.category)
        and (not needle or needle in f"{spec.id} {spec.name_en} {spec.name_zh}".lower())
    ]
    index = _index(indexes.get_or_none(), chosen)
    return show(
        "tags.html",
        entity=chosen,
        entities=ENTITIES,
        category=category if category in categories else "",
        categories=categories,
        all_categories=CATEGORIES,
        value_types=VALUE_TYPES,
        q=q,
        rows=[_row(spec, index, language) for spec in shown],
        total=len(specs),
        index=index,
        definitions=DEFINITIONS,
        can_write=visitor.session.principal.can(Permission.AUDIENCES_WRITE),
    )


@router.get("/tags/{entity}/{tag_id}", response_class=HTMLResponse)
def tag_page(
    request: Request,
    entity: Annotated[str, Path(pattern="^(person|store)$")],
    tag_id: TagIdPath,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    indexes: IndexesDep,
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="tags")
    if isinstance(show, Response):
        return show
    with oltp.connect() as conn:
        spec = catalogue_with_users(conn).tag(tag_id)
    if spec is None or spec.entity != entity:
        return show(
            "error.html", status=404, title="error.not_found_title", message="error.not_found"
        )
    index = _index(indexes.get_or_none(), spec.entity)
    computed = index is not None and spec.id in index.tag_ids
    found = index.distribution(spec.id) if computed and index is not None else None
    return show(
        "tag.html",
        spec=spec,
        name=tag_name(spec, language),
        description=tag_description(spec, language),
        other_description=tag_description(spec, "en" if language == "zh-CN" else "zh-CN"),
        unit=unit_label(language, spec.unit),
        index=index if computed else None,
        coverage=index.coverage(spec.id) if computed and index is not None else None,
        distribution=found,
        quantiles=_quantiles(language, spec, found),
        chart_json=script_json(_chart(language, spec, found, index)) if found else None,
        definitions=DEFINITIONS,
    )


def _index(indexes: Indexes | None, entity: Entity) -> TagIndex | None:
    if indexes is None:
        return None
    return indexes.persons if entity == "person" else indexes.stores


def _row(spec: TagSpec, index: TagIndex | None, language: Language) -> dict[str, Any]:
    computed = index is not None and spec.id in index.tag_ids
    return {
        "spec": spec,
        "name": tag_name(spec, language),
        "computed": computed,
        "coverage": index.coverage(spec.id) if computed and index is not None else None,
    }


def _quantiles(
    language: Language, spec: TagSpec, found: Distribution | None
) -> list[tuple[str, str]]:
    """Minimum, p10…p90 and maximum of a number or date tag, formatted with the tag's unit."""
    if found is None or found.minimum is None:
        return []
    points = [("min", found.minimum), *found.quantiles.items(), ("max", found.maximum)]
    return [(name, format_value(language, spec, value)) for name, value in points]


def _chart(
    language: Language, spec: TagSpec, found: Distribution, index: TagIndex | None
) -> dict[str, Any]:
    """Bars per value (bool, enum; persons without a value last, greyed) or the histogram's buckets
    (number, date), with the axis labels in the page's language."""
    missing = (index.row_count if index is not None else found.count) - found.count
    if spec.value_type in ("bool", "enum"):
        labels = [value_label(language, spec, value) for value in found.counts]
        counts = list(found.counts.values())
    else:
        labels = [
            format_value(language, spec, b.low)
            if b.low == b.high
            else f"{format_value(language, spec, b.low)} – {format_value(language, spec, b.high)}"
            for b in found.histogram
        ]
        counts = [b.count for b in found.histogram]
    return {
        "kind": "bars" if spec.value_type in ("bool", "enum") else "histogram",
        "labels": [*labels, translate(language, "tags.no_value")] if missing else labels,
        "counts": counts,
        "missing": missing,
        "series": translate(language, "tags.chart_series"),
    }
