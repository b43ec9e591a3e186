"""Audiences in the console: the saved audiences with their latest size and a sparkline of its
history, the builder (an expression editor with a live count, hints that fix a typo, a tag picker,
breakdowns by city, channel and lifecycle, the overlap with a saved audience) and a saved audience's
page (edit, archive, size history, frozen snapshots, exports).

The pages render from the domain; everything the user changes goes through the JSON API from the
page's script (``/api/v1/audiences``…), with the session's CSRF token and an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from newretail.audience import saved
from newretail.audience.indexes import IndexHolder
from newretail.errors import NotFound
from newretail.security import Permission, Principal
from newretail.tags.spec import Entity
from newretail.web.audience_deps import IndexesDep, Show, catalogue_with_users, gate, script_json
from newretail.web.audience_view import (
    CONSENTS,
    EXPORT_KINDS,
    breakdown_data,
    editor_data,
    freshness,
    overlap_choices,
    sparkline,
)
from newretail.web.deps import LanguageDep, OltpDep, VisitorDep
from newretail.web.i18n import Language, translate

router = APIRouter()
AudienceId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
# Figures of the audience pages, each with a definition (def.aud.<key>) in the glossary.
DEFINITIONS = (
    "size",
    "share",
    "universe",
    "as_of",
    "breakdown",
    "overlap",
    "jaccard",
    "size_history",
    "snapshot",
    "export",
)
LIST_DEFINITIONS = ("size", "as_of", "size_history")
DONE = ("created", "saved", "archived", "frozen")


@router.get("/audiences", response_class=HTMLResponse)
def audiences_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    indexes: IndexesDep,
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="audiences")
    if isinstance(show, Response):
        return show
    assert visitor is not None
    with oltp.connect() as conn:
        audiences = saved.list_audiences(conn)
        histories = saved.size_histories(conn, [a.id for a in audiences])
    rows = [(audience, sparkline(histories[audience.id])) for audience in audiences]
    return show(
        "audiences.html",
        rows=rows,
        fresh=freshness(indexes.get_or_none(), "person"),
        definitions=LIST_DEFINITIONS,
        can_write=visitor.session.principal.can(Permission.AUDIENCES_WRITE),
    )


@router.get("/audiences/new", response_class=HTMLResponse)
def new_audience_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    indexes: IndexesDep,
    text: Annotated[str, Query(max_length=8000)] = "",
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="audiences")
    if isinstance(show, Response):
        return show
    assert visitor is not None
    return _builder(show, language, visitor.session.principal, oltp, indexes, None, text)


@router.get("/audiences/{audience_id}", response_class=HTMLResponse)
def audience_page(
    request: Request,
    audience_id: AudienceId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    indexes: IndexesDep,
    done: str = "",
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="audiences")
    if isinstance(show, Response):
        return show
    assert visitor is not None
    try:
        with oltp.connect() as conn:
            audience = saved.get_audience(conn, audience_id)
    except NotFound:
        return show(
            "error.html", status=404, title="error.not_found_title", message="error.not_found"
        )
    principal = visitor.session.principal
    return _builder(
        show, language, principal, oltp, indexes, audience, audience.expression_text, done=done
    )


def _builder(
    show: Show,
    language: Language,
    principal: Principal,
    oltp: sa.Engine,
    indexes: IndexHolder,
    audience: saved.SavedAudience | None,
    text: str,
    *,
    done: str = "",
) -> HTMLResponse:
    entity: Entity = audience.entity if audience is not None else "person"
    loaded = indexes.get_or_none()
    with oltp.connect() as conn:
        catalogue = catalogue_with_users(conn)
        others = saved.list_audiences(conn)
        history = saved.size_history(conn, audience.id) if audience else []
        snapshots = saved.list_snapshots(conn, audience.id) if audience else []
    state = {
        **editor_data(catalogue, loaded, language, entity),
        "audience": None if audience is None else {"id": audience.id, "name": audience.name},
        "breakdown": breakdown_data(loaded, language) if entity == "person" else [],
        "overlap": overlap_choices(others, exclude=audience.id if audience else None),
        "sizes": [{"as_of": p.as_of, "size": p.size, "version": p.index_version} for p in history],
        "sizes_name": translate(language, "aud.kpi_size"),
    }
    can_write = principal.can(Permission.AUDIENCES_WRITE)
    return show(
        "audience.html",
        audience=audience,
        entity=entity,
        text=text,
        fresh=freshness(loaded, entity),
        state_json=script_json(state),
        overlap=state["overlap"],
        history=history,
        snapshots=snapshots,
        kinds=EXPORT_KINDS,
        consents=CONSENTS,
        can_write=can_write and (audience is None or audience.archived_at is None),
        can_export=principal.can(Permission.EXPORTS_CREATE) and entity == "person",
        done=done if done in DONE else None,
        definitions=DEFINITIONS,
    )
