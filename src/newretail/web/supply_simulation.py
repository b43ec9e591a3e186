"""Policy simulation in the console (``supply.read``, chain-wide: not for store-scoped visitors): the
newest saved comparison by default (or one chosen from the saved ones), the policies side by side,
core in-stock rate and waste per day, and one policy's figures per material. Planners
(``supply.write``) start a new simulation from the page: its script posts to the API's job endpoint
and polls the job until the report is saved."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden
from newretail.security import Permission
from newretail.supply.simulate.run import DEFAULT_SERVICE_LEVELS
from newretail.supply.simulate.views import material_labels, saved_simulations
from newretail.web.audience_deps import gate, script_json
from newretail.web.deps import LakeDep, LanguageDep, SettingsDep, VisitorDep
from newretail.web.i18n import translate
from newretail.web.supply_simulation_view import (
    DEFINITIONS,
    charts,
    material_lines,
    policy_label,
    policy_lines,
)

router = APIRouter()


@router.get("/supply/simulation", response_class=HTMLResponse)
def simulation_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lake: LakeDep,
    settings: SettingsDep,
    report: str = "",
    policy: str = "",
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
    try:
        saved = saved_simulations(lake, allowed=viewer.store_scope)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    current = next((s for s in saved if s.id == report), saved[0] if saved else None)
    t = partial(translate, language)
    form = {
        "weeks": 4,
        "service_levels": ", ".join(f"{level:g}" for level in DEFAULT_SERVICE_LEVELS),
        "currency": current.report.currency if current else "CNY",
    }
    if current is None:
        return show(
            "supply_simulation.html",
            current=None,
            saved=[],
            form=form,
            can_run=viewer.can(Permission.SUPPLY_WRITE),
            definitions=DEFINITIONS,
        )
    policies = [row.policy for row in current.report.rows]
    chosen = policy if policy in policies else policies[min(1, len(policies) - 1)]
    return show(
        "supply_simulation.html",
        current=current,
        saved=saved,
        form=form,
        lines=policy_lines(current, t),
        policies=[(p, policy_label(p, t)) for p in policies],
        policy=chosen,
        policy_name=policy_label(chosen, t),
        materials=material_lines(current, chosen, material_labels(lake, engine=settings.engine), t),
        charts_json=script_json(charts(current, t)),
        can_run=viewer.can(Permission.SUPPLY_WRITE),
        definitions=DEFINITIONS,
    )
