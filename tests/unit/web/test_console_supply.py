"""The replenishment console page (TestClient over SQLite, plans saved through the domain): the
newest plan's lines grouped by location with their explanations and totals, a location approved in
one click, a line edited and rejected, refusals shown without changing anything, and store managers
limited to their stores and to reading."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.supply_plan_setup import NAMES, small_draft
from tests.unit.web.conftest import NOW, add_user, sign_in

from newretail.security import Principal, Role
from newretail.supply.replenish.plan_records import LineFilter, PlannedLine
from newretail.supply.replenish.plans import list_lines, save_plan

EN = {"accept-language": "en"}
ORIGIN = dt.date(2026, 3, 31)
READER = Principal(user_id=None, role=Role.ADMIN)


@pytest.fixture
def plan_id(oltp: Engine) -> int:
    with oltp.begin() as conn:
        save_plan(conn, small_draft(ORIGIN - dt.timedelta(days=1)), now=NOW)
        return save_plan(conn, small_draft(ORIGIN), now=NOW, material_names=NAMES).id


def lines(oltp: Engine, plan_id: int) -> dict[tuple[str, str], PlannedLine]:
    with oltp.connect() as conn:
        found, _ = list_lines(conn, plan_id, READER, chosen=LineFilter(), limit=50, offset=0)
    return {(x.location_id, x.material_id): x for x in found}


def row(html: str, line_id: int) -> str:
    match = re.search(rf'<tr class="supply-line" data-line="{line_id}".*?</tr>', html, re.S)
    assert match, f"no row for line {line_id}"
    return match.group(0)


def test_a_planner_sees_the_newest_plan_by_location_with_reasons(
    client: TestClient, oltp: Engine, plan_id: int
) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    page = client.get("/console/supply", headers=EN)
    assert page.status_code == 200
    html = page.text
    assert 'href="/console/supply" class="nav-item active" data-nav="supply"' in html
    for tab in ("forecast", "alerts", "health", "simulation"):
        assert f'href="/console/supply/{tab}"' in html
    places = re.findall(
        r'<section class="card section supply-location"[^>]*data-location="([^"]+)"', html
    )
    assert places == ["store:S1", "store:S2", "warehouse:W1"]
    beans = lines(oltp, plan_id)[("S1", "M001")]
    shown = row(html, beans.id)
    assert 'data-status="proposed"' in shown and "咖啡豆 Espresso beans" in shown
    assert re.search(r'data-figure="packs">2<', shown)
    assert re.search(r'data-figure="cost">¥180.00<', shown)
    detail = re.search(rf'data-line-detail="{beans.id}".*?</details>', html, re.S)
    assert detail is not None
    assert 'data-figure="forecast">1,234.6<' in detail.group(0)
    assert 'data-figure="position">500<' in detail.group(0)
    # 11 packs costing ¥1,008.00 over S1, S2 and W1.
    assert 'data-figure="packs">11<' in html and 'data-figure="cost">¥1,008.00<' in html
    assert len(re.findall(r'data-action="approve-location"', html)) == 3
    older = client.get(f"/console/supply?plan={plan_id - 1}", headers=EN).text
    assert f'<option value="{plan_id - 1}" selected>' in older


def test_a_location_approved_in_one_click_and_a_line_edited_and_rejected(
    client: TestClient, oltp: Engine, plan_id: int
) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    token = sign_in(client, "plan@example.com")
    found = lines(oltp, plan_id)
    back = f"/console/supply?plan={plan_id}&location=store%3AS1"
    answer = client.post(
        f"/console/supply/plans/{plan_id}/approve",
        data={"csrf_token": token, "location": "store:S1", "back": back},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{back}&done=approved"
    html = client.get(answer.headers["location"], headers=EN).text
    assert 'data-outcome="approved"' in html
    for material in ("M001", "M016"):
        shown = row(html, found[("S1", material)].id)
        assert 'data-status="approved"' in shown and 'data-figure="order"' in shown
    assert 'data-location="store:S2"' not in html  # the filter kept

    croissants = found[("S2", "M016")].id
    path = f"/console/supply/plans/{plan_id}/lines/{croissants}"
    refused = client.post(
        f"{path}/edit", data={"csrf_token": token, "packs": "-1", "reason": "x", "back": back}
    )
    assert refused.headers["location"].endswith("error=supply.bad_packs")
    html = client.get(refused.headers["location"]).text
    assert 'data-outcome="bad_packs"' in html
    assert lines(oltp, plan_id)[("S2", "M016")].status == "proposed"

    client.post(f"{path}/edit", data={"csrf_token": token, "packs": "4", "reason": "fair"})
    edited = lines(oltp, plan_id)[("S2", "M016")]
    assert (edited.status, edited.packs, edited.edit_reason) == ("edited", 4, "fair")
    client.post(f"{path}/reject", data={"csrf_token": token, "reason": "no oven"})
    assert lines(oltp, plan_id)[("S2", "M016")].status == "rejected"
    beans = found[("S1", "M001")].id
    ordered = client.post(
        f"/console/supply/plans/{plan_id}/lines/{beans}/reject", data={"csrf_token": token}
    )
    assert ordered.headers["location"].endswith("error=supply.line_ordered")
    forged = client.post(f"{path}/edit", data={"csrf_token": "nope", "packs": "1", "reason": "x"})
    assert forged.status_code == 403


def test_store_managers_see_their_stores_and_cannot_decide(
    client: TestClient, oltp: Engine, plan_id: int
) -> None:
    add_user(oltp, "sam@example.com", "store_manager", ("S1",))
    token = sign_in(client, "sam@example.com")
    html = client.get("/console/supply", headers=EN).text
    places = re.findall(r'supply-location"[^>]*data-location="([^"]+)"', html)
    assert places == ["store:S1"]
    assert 'id="scope-note"' in html
    assert 'data-action="approve-location"' not in html and 'data-action="edit"' not in html
    assert '<option value="store:S2"' not in html
    assert client.get("/console/supply?location=store:S2").status_code == 403
    answer = client.post(
        f"/console/supply/plans/{plan_id}/approve",
        data={"csrf_token": token, "location": "store:S1"},
    )
    assert answer.status_code == 403
    assert {x.status for x in lines(oltp, plan_id).values()} == {"proposed"}


def test_who_may_open_the_page_and_the_empty_state(client: TestClient, oltp: Engine) -> None:
    assert client.get("/console/supply").status_code == 303
    add_user(oltp, "mk@example.com", "marketer")
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "mk@example.com")
    assert 'data-nav="supply"' not in client.get("/console/").text
    assert client.get("/console/supply").status_code == 403
    client.cookies.clear()
    sign_in(client, "ana@example.com")
    html = client.get("/console/supply").text
    assert 'id="no-plan"' in html and "newretail supply plan" in html
    assert client.get("/console/supply?plan=99").status_code == 404
