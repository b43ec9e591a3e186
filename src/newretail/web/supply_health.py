"""Inventory health in the console (``supply.read``): the chain's in-stock rate, days of inventory,
sell-through, waste and aging for a period, charts of the weekly trend, cover by material, waste by
reason and stock by age, and a table per store, DC, material or week. A store manager sees its
stores only and no DC."""

from __future__ import annotations

import datetime as dt
from functools import partial

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, InvalidInput, NoData
from newretail.security import Permission
from newretail.supply.health import GROUPINGS
from newretail.supply.scoped import health_for
from newretail.web.audience_deps import gate, script_json
from newretail.web.deps import LakeDep, LakeEngineDep, LanguageDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.supply_health_view import COLUMNS, DEFINITIONS, ERRORS, build_view

router = APIRouter()
PAGE = "supply_health.html"


@router.get("/supply/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lake: LakeDep,
    engine: LakeEngineDep,
    first: str = Query("", alias="from"),
    last: str = Query("", alias="to"),
    group_by: str = "store",
    store: str = "",
) -> Response:
    show = gate(
        request,
        language=language,
        visitor=visitor,
        active="supply",
        permission=Permission.SUPPLY_READ,
    )
    if isinstance(show, Response):
        return show
    assert visitor is not None
    viewer = visitor.session.principal
    scoped = viewer.store_scope is not None
    groupings = [g for g in GROUPINGS if not (scoped and g == "dc")]
    form = {"from": first, "to": last, "group_by": group_by, "store": store.strip()}
    common = {"form": form, "groupings": groupings, "scoped": scoped, "definitions": DEFINITIONS}
    try:
        report = health_for(
            viewer,
            lake,
            engine,
            first=_date(first, "from"),
            last=_date(last, "to"),
            group_by=group_by,
            stores=[form["store"]] if form["store"] else (),
        )
    except NoData:
        return show(PAGE, report=None, **common)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except InvalidInput as error:
        reason = error.code.removeprefix("supply.")
        return show(PAGE, report=None, error=reason if reason in ERRORS else "bad_period", **common)
    view = build_view(report, partial(translate, language))
    return show(
        PAGE,
        report=report,
        view=view,
        columns=COLUMNS,
        charts_json=script_json(view.charts),
        **common,
    )


def _date(text: str, field: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("supply.bad_date", f"not a date: {text!r}", field=field) from None
