"""The overview and audit pages as a browser receives them: figures per currency from the lake,
the store scope, the empty lake, definitions on the page, the admin-only audit log and its htmx
fragment."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.chain import write_chain
from tests.unit.web.conftest import add_user, sign_in
from tests.unit.web.test_overview_metrics import ORDERS

from newretail.lake import Lake

EN = {"accept-language": "en"}


def chart_data(html: str) -> dict[str, object]:
    match = re.search(
        r'<script id="overview-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_an_empty_lake_says_what_to_run(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    html = client.get("/console/", headers=EN).text
    assert 'id="empty-lake"' in html
    assert "newretail demo" in html
    assert "newretail build" in html


def test_the_overview_shows_each_currency_apart(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_chain(lake, ORDERS)
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    html = client.get("/console/", headers=EN).text
    assert "2026-03-02 to 2026-03-31" in html
    assert "¥55.50" in html  # 1250 + 800 + 2000 + 1500 fen
    assert "S$17.50" in html  # 650 + 1100 cents
    assert "¥13.88" in html  # 5550 / 4 = 1387.5 fen, rounded half up
    assert "S$8.75" in html
    assert re.search(r'data-kpi="active_members".*?<span class="value">3</span>', html, re.S)
    for key in ("sales", "orders", "basket", "active_members"):
        assert f'href="#def-{key}"' in html
        assert f'id="def-{key}"' in html
    assert "Amount paid on completed orders" in html
    data = chart_data(html)
    assert [c["code"] for c in data["currencies"]] == ["CNY", "SGD"]  # type: ignore[attr-defined]
    trend = data["trend"]
    assert isinstance(trend, dict)
    assert len(trend["CNY"]) == 30
    assert trend["CNY"][-1] == {"value": 2050, "label": "¥20.50 · 2 orders"}
    assert data["channels"] == ["App", "POS", "Meituan"]


def test_the_overview_speaks_chinese_by_default(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_chain(lake, ORDERS)
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    html = client.get("/console/").text
    assert "销售额" in html
    assert "客单价" in html
    assert "美团" in chart_data(html)["channels"]  # type: ignore[operator]


def test_a_store_manager_sees_only_their_stores(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_chain(lake, ORDERS)
    add_user(oltp, "sam@example.com", "store_manager", ("SH01",))
    sign_in(client, "sam@example.com")
    html = client.get("/console/", headers=EN).text
    assert "Your stores: SH01" in html
    assert "¥40.50" in html  # 1250 + 800 + 2000
    assert "S$" not in html
    assert "¥55.50" not in html


def test_a_store_manager_without_sales_is_told_so(
    client: TestClient, oltp: Engine, lake: Lake
) -> None:
    write_chain(lake, ORDERS)
    add_user(oltp, "sam@example.com", "store_manager", ("BJ09",))
    sign_in(client, "sam@example.com")
    assert 'id="empty-scope"' in client.get("/console/").text


def test_coming_areas_are_marked_and_not_linked(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    html = client.get("/console/", headers=EN).text
    for area in (
        "marketing",
        "stores",
        "bi",
    ):
        assert re.search(
            rf'<span class="nav-item soon" aria-disabled="true"[^>]*data-nav="{area}"', html
        )
    assert 'href="/console/flashsales" class="nav-item" data-nav="flashsales"' in html
    assert 'data-nav="audit"' not in html  # analysts do not read the audit log


def test_the_audit_log_is_for_admins(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    assert client.get("/console/audit").status_code == 403


def test_the_audit_log_filters_and_pages_with_htmx(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "root@example.com", "admin")
    for n in range(30):
        add_user(oltp, f"u{n}@example.com", "analyst")
    sign_in(client, "root@example.com")
    html = client.get("/console/audit", headers=EN).text
    assert "<form" in html and 'id="audit-results"' in html
    assert "1–25 of 32" in html  # 31 users created by the CLI, one sign-in
    fragment = client.get(
        "/console/audit?action=user.created&offset=25", headers={**EN, "hx-request": "true"}
    )
    assert "<form" not in fragment.text
    assert fragment.text.lstrip().startswith('<section class="card" id="audit-results"')
    assert "26–31 of 31" in fragment.text
    assert "?action=user.created" in fragment.text  # the link to the newer page keeps the filter
    signed = client.get("/console/audit?action=auth.login&actor=cli", headers=EN).text
    assert "No entries match" in signed
    bad = client.get("/console/audit?since=2026-05-01&until=2026-04-01", headers=EN).text
    assert "The start date is after the end date." in bad
    today = client.get("/console/audit?since=2026-04-01&until=2026-04-01", headers=EN).text
    assert "1–25 of 32" in today
