"""The demand forecast in the console (``supply.read``): for a store, or every store the visitor
may see, eight weeks of actual units beside the newest forecast and its 80% band; the same for a
chosen product and material; tomorrow's hourly prep curve; the backtest accuracy per model and
level. A store manager chooses among its own stores only."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, NoData, NotFound
from newretail.security import Permission
from newretail.supply.forecast.accuracy_table import forecast_accuracy
from newretail.supply.forecast.views import forecast_view
from newretail.web.audience_deps import gate, script_json
from newretail.web.deps import LakeDep, LanguageDep, SettingsDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.supply_forecast_view import (
    ACCURACY_DEFINITIONS,
    DEFINITIONS,
    accuracy_lines,
    band_chart,
    code_or_none,
    label,
    prep_chart,
    quantity,
    units,
)

router = APIRouter()


@router.get("/supply/forecast", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lake: LakeDep,
    settings: SettingsDep,
    store: str = "",
    product: str = "",
    material: str = "",
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
    t = partial(translate, language)
    definitions = (*DEFINITIONS, *ACCURACY_DEFINITIONS)
    try:
        view = forecast_view(
            lake,
            engine=settings.engine,
            allowed=viewer.store_scope,
            store_id=code_or_none(store),
            product_id=code_or_none(product),
            material_id=code_or_none(material),
        )
        accuracy = forecast_accuracy(lake)
    except NoData:
        return show("supply_forecast.html", view=None, definitions=definitions)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    charts = {"total": band_chart(view.total, t, units), "prep": prep_chart(view.prep_units, t)}
    if view.product is not None:
        charts["product"] = band_chart(view.product.series, t, units)
    if view.material is not None:
        fmt = quantity(view.material.choice.unit, t)
        charts["material"] = band_chart(view.material.series, t, fmt)
    return show(
        "supply_forecast.html",
        view=view,
        label=partial(label, language=language),
        charts_json=script_json(charts),
        accuracy=accuracy_lines(accuracy),
        scoped=viewer.store_scope is not None,
        definitions=definitions,
    )
