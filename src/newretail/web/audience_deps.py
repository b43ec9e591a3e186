"""What the tag and audience pages share: the tag snapshots (the API runtime's holder when the console
runs inside ``newretail serve``, else one of its own over the home's index directory), the catalogue
with the users' tags, and the sign-in and ``audiences.read`` gate every page passes first."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from newretail.audience.indexes import IndexHolder
from newretail.security import Permission
from newretail.tags.catalogue import Catalogue
from newretail.tags.user_tags import user_tags
from newretail.web.deps import SettingsDep, Visitor
from newretail.web.i18n import Language
from newretail.web.render import LOGIN_PATH, page, redirect

Show = Callable[..., HTMLResponse]


def get_indexes(request: Request, settings: SettingsDep) -> IndexHolder:
    """The process's tag snapshots: one holder, so a refresh is picked up once for every page."""
    runtime = getattr(request.app.state, "runtime", None)
    holder = getattr(runtime, "indexes", None) or getattr(request.app.state, "tag_indexes", None)
    if not isinstance(holder, IndexHolder):
        holder = IndexHolder(settings.index_dir)
        request.app.state.tag_indexes = holder
    return holder


IndexesDep = Annotated[IndexHolder, Depends(get_indexes)]


def catalogue_with_users(conn: Connection) -> Catalogue:
    """The shipped tags and the ones users added, as the API lists them."""
    return Catalogue.shipped().with_tags(user_tags(conn))


def gate(
    request: Request,
    *,
    language: Language,
    visitor: Visitor | None,
    active: str,
    permission: Permission = Permission.AUDIENCES_READ,
) -> Show | Response:
    """A page renderer for a signed-in visitor allowed ``permission``; otherwise the response to send
    instead (to the sign-in page, or 403)."""
    if visitor is None:
        return redirect(LOGIN_PATH)
    show: Show = partial(page, request, language=language, visitor=visitor, active=active)
    if not visitor.session.principal.can(permission):
        return show("error.html", status=403, message="error.forbidden")
    return show


def script_json(value: Any) -> str:
    """JSON to embed in a ``<script type="application/json">``: "<" escaped so no value can close
    the element."""
    return json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c")
