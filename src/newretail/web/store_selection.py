"""Store selection in the console: the expression editor over store tags with a live count, the
stores it picks as a list and on a map (a scatter of longitude and latitude, no map tiles, so it
works offline) with the rest greyed, and a way to use the selection in a person audience
(``home_store_id IN STORES(…)``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from newretail.audience.store_directory import store_entries
from newretail.tags.index import TagIndex
from newretail.web.audience_deps import IndexesDep, catalogue_with_users, gate, script_json
from newretail.web.audience_view import editor_data, freshness
from newretail.web.deps import LakeDep, LanguageDep, OltpDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.tag_view import value_label

router = APIRouter()
# Figures of the page, each with a definition (def.stores.<key>) in the glossary.
DEFINITIONS = ("size", "share", "map", "use")


@router.get("/stores/select", response_class=HTMLResponse)
def store_selection_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    indexes: IndexesDep,
    text: Annotated[str, Query(max_length=8000)] = "",
) -> Response:
    show = gate(request, language=language, visitor=visitor, active="store_select")
    if isinstance(show, Response):
        return show
    loaded = indexes.get_or_none()
    stores = loaded.stores if loaded is not None else None
    with oltp.connect() as conn:
        catalogue = catalogue_with_users(conn)
    everything = []
    formats: dict[str, str] = {}
    if stores is not None:
        keys = stores.keys(stores.universe())
        everything = [
            {
                "id": s.store_id,
                "name": s.name,
                "city": s.city,
                "format": s.format,
                "lon": s.longitude,
                "lat": s.latitude,
            }
            for s in store_entries(lake, keys)
        ]
        spec = stores.spec("format") if "format" in stores.tag_ids else None
        for entry in everything:
            code = str(entry["format"] or "")
            formats[code] = value_label(language, spec, code) if spec and code else code
    state = {
        **editor_data(catalogue, loaded, language, "store"),
        "stores": everything,
        "formats": formats,
        "labels": {
            key: translate(language, f"stores.{key}")
            for key in ("longitude", "latitude", "not_selected")
        },
    }
    return show(
        "store_selection.html",
        text=text or _example(stores),
        fresh=freshness(loaded, "store"),
        has_stores=stores is not None,
        state_json=script_json(state),
        definitions=DEFINITIONS,
    )


def _example(stores: TagIndex | None) -> str:
    """A first selection to start from: the stores of the city with the most of them."""
    if stores is None:
        return ""
    if "city" not in stores.tag_ids:
        return "country IS NOT NULL"
    counts = stores.distribution("city").counts
    city = max(counts, key=lambda c: counts[c]) if counts else None
    if city is None:
        return "country IS NOT NULL"
    return "city = '{}'".format(city.replace("'", "''"))
