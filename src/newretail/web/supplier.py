"""The supplier page (``supply.supplier_read``): a supplier's user sees its own materials' demand
forecast summed over every store, their stock and inbound orders at the DCs and how its deliveries
kept time; a planner chooses which supplier to look at."""

from __future__ import annotations

import datetime as dt
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, InvalidInput, NoData, NotFound
from newretail.security import Permission
from newretail.supply.scoped import supplier_view_for
from newretail.supply.supplier import known_suppliers
from newretail.web.audience_deps import gate, script_json
from newretail.web.deps import LakeDep, LanguageDep, SettingsDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.supplier_view import DEFINITIONS, build_page

router = APIRouter()
PAGE = "supplier.html"


@router.get("/supplier", response_class=HTMLResponse)
def supplier_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lake: LakeDep,
    settings: SettingsDep,
    supplier_id: str = "",
    as_of: str = "",
) -> Response:
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="supplier",
        permission=Permission.SUPPLY_SUPPLIER_READ,
    )
    if isinstance(show, Response):
        return show
    assert visitor is not None
    viewer = visitor.session.principal
    own = viewer.supplier_scope
    chosen = own or supplier_id.strip() or None
    common = {
        "own": own,
        "chosen": chosen,
        "suppliers": [] if own else known_suppliers(lake, engine=settings.engine),
        "definitions": DEFINITIONS,
    }
    if chosen is None:
        return show(PAGE, view=None, **common)
    try:
        view = supplier_view_for(
            viewer, lake, engine=settings.engine, supplier_id=chosen, as_of=_date(as_of)
        )
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except (NotFound, InvalidInput):
        return show(PAGE, view=None, error="unknown_supplier", **common)
    except NoData:
        return show(PAGE, view=None, error="no_data", **common)
    page = build_page(view, partial(translate, language))
    return show(PAGE, view=view, page=page, charts_json=script_json(page.charts), **common)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput("supply.bad_date", f"not a date: {text!r}", field="as_of") from None
