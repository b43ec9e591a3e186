"""The member 360's Tags section, loaded into the person page after it renders (htmx): the person's
values on the latest tag refresh, by category, with the refresh's date. It reads one row of the ADS
tag table, so the rest of the page never waits for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.security import Permission
from newretail.tags.values import person_tags
from newretail.web.audience_deps import catalogue_with_users, gate
from newretail.web.deps import LakeDep, LanguageDep, OltpDep, VisitorDep
from newretail.web.person_view import tag_groups

router = APIRouter()
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/customers/{person_id}/tags", response_class=HTMLResponse)
def person_tags_section(
    request: Request,
    person_id: PersonId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
) -> Response:
    """Tag values are customer data and audience material: ``identity.read`` and
    ``audiences.read`` both (no store-scoped role has the latter)."""
    show = gate(request, language=language, visitor=visitor, active="customers")
    if isinstance(show, Response):
        return show
    assert visitor is not None
    if not visitor.session.principal.can(Permission.IDENTITY_READ):
        return show("error.html", status=403, message="error.forbidden")
    with oltp.connect() as conn:
        catalogue = catalogue_with_users(conn)
    found = person_tags(lake, person_id, catalogue=catalogue)
    groups = tag_groups(found[1], language) if found else []
    return show(
        "_person_tags.html",
        as_of=found[0] if found else None,
        groups=groups,
        total=sum(len(group.items) for group in groups),
    )
