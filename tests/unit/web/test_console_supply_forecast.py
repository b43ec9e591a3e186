"""The forecast and simulation console pages (TestClient over SQLite, a tiny lake with a published
run and a saved report): selectors, chart data with every point's tooltip text, the accuracy table,
the policies side by side with their figures and target, one policy per material, the run form for
planners only, store managers limited to their stores and kept off the chain-wide simulation, and
the empty pages before anything is published."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.supply_forecast_lake import write_forecast_chain
from tests.unit.web.conftest import add_user, sign_in

from newretail.lake import Lake
from newretail.model.codes import UNITS
from newretail.supply.forecast.accuracy import LEVELS
from newretail.web import supply_forecast_view, supply_simulation_view
from newretail.web.i18n import LANGUAGES, catalogue, translate

EN = {"accept-language": "en"}
# Keys the pages build from a value (the templates' literal keys are checked by test_i18n).
BUILT = [
    *(
        f"{prefix}{key}"
        for key in (*supply_forecast_view.DEFINITIONS, *supply_forecast_view.ACCURACY_DEFINITIONS)
        for prefix in ("supply_forecast.term_", "def.supply_forecast.")
    ),
    *(
        f"{prefix}{key}"
        for key in supply_simulation_view.DEFINITIONS
        for prefix in ("supply_sim.term_", "def.supply_sim.")
    ),
    *(f"supply_forecast.level_{level}" for level in LEVELS),
    *(f"supply_forecast.unit_{unit}" for unit in UNITS),
    *(
        f"supply_sim.{kind}_{p}"
        for kind in ("policy", "short")
        for p in ("order_up_to_last_week", "forecast")
    ),
]


@pytest.mark.parametrize("key", BUILT)
def test_every_key_the_pages_build_is_translated(key: str) -> None:
    for language in LANGUAGES:
        assert key in catalogue(language)


def charts(html: str) -> dict[str, dict[str, object]]:
    match = re.search(r'<script id="supply-charts" type="application/json">(.*?)</script>', html)
    assert match, "the page embeds no chart data"
    data: dict[str, dict[str, object]] = json.loads(match.group(1))
    return data


def row(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{value}".*?</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(0)


def test_a_planner_reads_the_forecast_against_actuals(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_forecast_chain(lake)
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    page = client.get("/console/supply/forecast", headers=EN)
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-supply-tab="forecast" aria-current="page"' in html
    assert re.search(r'<option value="P1" selected>P1 · P1</option>', html)
    assert re.search(r'<option value="M1" selected>M1 · Material M1</option>', html)
    assert re.findall(r'data-chart="(\w+)"', html) == [
        "total",
        "product",
        "material",
        "prep",
    ]
    data = charts(html)
    total = data["total"]
    assert total["kind"] == "band" and len(total["dates"]) == 14 + 3  # type: ignore[arg-type]
    assert total["actual"][-1] is None  # type: ignore[index]
    assert total["width"][-3] == {"value": 100.0, "label": "110 – 210"}  # type: ignore[index]
    assert total["mean"][-3] == {"value": 160.0, "label": "160"}  # type: ignore[index]
    ml = translate("en", "supply_forecast.unit_ml")
    assert data["material"]["width"][-3]["label"] == f"2,700 {ml} – 3,700 {ml}"  # type: ignore[index]
    prep = data["prep"]
    assert prep["categories"] == [f"{h:02d}:00" for h in range(8, 18)]
    assert prep["series"][0]["data"][1] == {"value": 25.0, "label": "25.0"}  # type: ignore[index]
    serving = row(html, "data-model", 'ets_share" data-level="store')
    assert 'data-serving="true"' in serving
    assert re.search(r'data-figure="accuracy">85.0%<', serving)
    assert re.search(r'data-figure="vs_naive">-50.0%<', serving)
    assert re.search(r'data-figure="bias">\+2.0%<', serving)
    naive = row(html, "data-model", 'seasonal_naive" data-level="chain')
    assert re.search(r'data-figure="vs_naive">—<', naive)
    for key in ("band", "stores_sum", "material_use", "prep", "mase"):
        assert f'id="def-{key}"' in html

    chosen = client.get("/console/supply/forecast?store=S1&product=P2&material=M3", headers=EN).text
    assert '<option value="S1" selected>S1 · Store S1</option>' in chosen
    assert 'data-product="P2"' in chosen and 'data-material="M3"' in chosen
    chosen_charts = charts(chosen)
    assert chosen_charts["total"]["width"][-3]["value"] == 70.0  # type: ignore[index]
    small = chosen_charts["product"]  # a few units a day: shown to a tenth
    assert small["mean"][-3] == {"value": 20.0, "label": "20.0"}  # type: ignore[index]
    assert small["width"][-3]["label"] == "15.0 – 26.0"  # type: ignore[index]
    assert client.get("/console/supply/forecast?product=P9", headers=EN).status_code == 404


def test_a_store_manager_sees_their_stores_and_no_simulation(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_forecast_chain(lake)
    add_user(oltp, "s2@example.com", "store_manager", stores=("S2",))
    sign_in(client, "s2@example.com")
    html = client.get("/console/supply/forecast", headers=EN).text
    assert re.findall(r'<option value="(S\d)"', html) == ["S2"]
    assert 'id="scope-note"' in html
    assert charts(html)["total"]["mean"][-3]["value"] == 60.0  # type: ignore[index]
    assert client.get("/console/supply/forecast?store=S1", headers=EN).status_code == 403
    assert client.get("/console/supply/simulation", headers=EN).status_code == 403


def test_the_policies_side_by_side(client: TestClient, oltp: Engine, lake: Lake) -> None:
    write_forecast_chain(lake)
    add_user(oltp, "plan@example.com", "supply_planner")
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "plan@example.com")
    html = client.get("/console/supply/simulation", headers=EN).text
    assert 'data-supply-tab="simulation" aria-current="page"' in html
    assert re.findall(r'<tr data-policy="([\w.]+)">', html) == [
        "order_up_to_last_week",
        "forecast_0.95",
        "forecast_0.98",
    ]
    best = row(html, "data-policy", "forecast_0.98")
    assert re.search(r'data-figure="in_stock_core">98.50%<', best)
    assert re.search(r'data-figure="waste_cost">¥600.00<', best)
    assert re.search(r'data-figure="waste_vs_baseline">-40.0%<', best)
    assert re.search(r'data-figure="avg_stock">¥5,000.00<', best)
    assert 'class="tag tag-yes"' in best
    assert 'class="tag tag-no"' in row(html, "data-policy", "forecast_0.95")  # 97% in stock
    assert re.search(r'data-figure="target">—<', row(html, "data-policy", "order_up_to_last_week"))
    assert re.search(
        r'<section class="card section" id="materials" data-policy="forecast_0.95">', html
    )
    milk = row(html, "data-material", "M1")
    assert "Material M1" in milk and re.search(r'data-figure="waste_cost">¥166.66<', milk)
    ml = translate("en", "supply_forecast.unit_ml")
    assert f'data-figure="short_units">10 {ml}<' in milk  # in the material's own unit
    data = charts(html)
    assert data["in_stock"]["series"][2]["data"][0] == {"value": 0.985, "label": "98.50%"}  # type: ignore[index]
    assert data["waste"]["series"][0]["data"][0] == {"value": 71.42, "label": "¥71.42"}  # type: ignore[index]
    assert 'id="run-simulation"' in html and 'name="csrf-token"' in html
    other = client.get("/console/supply/simulation?policy=forecast_0.98", headers=EN).text
    assert 'id="materials" data-policy="forecast_0.98"' in other

    client.cookies.clear()
    sign_in(client, "ana@example.com")
    read_only = client.get("/console/supply/simulation", headers=EN).text
    assert 'id="comparison"' in read_only and 'id="run-simulation"' not in read_only


def test_empty_pages_before_anything_is_published(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    assert 'id="no-forecast"' in client.get("/console/supply/forecast", headers=EN).text
    html = client.get("/console/supply/simulation", headers=EN).text
    assert 'id="no-simulation"' in html and 'id="run-simulation"' in html
