"""The inventory health and supplier pages (TestClient over SQLite, the hand-written two-store chain
in the lake): a planner's figures and table, a store manager held to its store with no DC grouping,
bad dates refused beside the form, a supplier's user on its own page and refused the rest."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.supply_health_lake import FIRST, LAST, write_chain
from tests.unit.web.conftest import NOW, PASSWORD, add_user, sign_in

from newretail.lake import Lake
from newretail.security import Principal, create_user

PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture
def chain(lake: Lake) -> None:
    write_chain(lake)


def keys(html: str) -> list[str]:
    section = html.split('id="health-table"', 1)[1]
    return re.findall(r'<tr data-key="([^"]+)"', section)


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_a_planner_sees_the_chain_figures_and_a_row_per_store(
    client: TestClient, oltp: Engine, chain: None
) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    page = client.get("/console/supply/health", params=PERIOD)
    assert page.status_code == 200, page.text
    assert keys(page.text) == ["S1", "S2"]
    # 52 of 54 store-days × core materials in stock; 5 of 6 menu products sold.
    assert figure(page.text, "in_stock_rate") == "96.3%"
    assert figure(page.text, "product_sell_through") == "83.3%"
    assert 'data-chart="in_stock"' in page.text and 'id="supply-health-charts"' in page.text
    assert 'id="def-days_of_inventory"' in page.text


def test_a_store_manager_sees_its_store_only_and_bad_dates_are_named(
    client: TestClient, oltp: Engine, chain: None
) -> None:
    add_user(oltp, "sm@example.com", "store_manager", ("S2",))
    sign_in(client, "sm@example.com")
    page = client.get("/console/supply/health", params=PERIOD)
    assert keys(page.text) == ["S2"] and 'id="scope-note"' in page.text
    assert '<option value="dc"' not in page.text
    assert client.get("/console/supply/health", params={"group_by": "dc"}).status_code == 403
    assert client.get("/console/supply/health", params={"store": "S1"}).status_code == 403
    bad = client.get("/console/supply/health", params={"from": LAST, "to": FIRST})
    assert bad.status_code == 200 and 'data-outcome="bad_period"' in bad.text
    typo = client.get("/console/supply/health", params={"from": "2026-13-01"})
    assert 'data-outcome="bad_date"' in typo.text


def test_a_supplier_sees_its_own_page_and_nothing_else(
    client: TestClient, oltp: Engine, chain: None
) -> None:
    with oltp.begin() as conn:
        create_user(
            conn,
            actor=Principal.cli(),
            email="v1@example.com",
            role="supplier",
            supplier_id="V1",
            password=PASSWORD,
            now=NOW,
        )
    sign_in(client, "v1@example.com")
    page = client.get("/console/supplier", params={"supplier_id": "V2"})
    assert page.status_code == 200, page.text
    assert 'id="supplier-id">V1<' in page.text and 'id="supplier-filters"' not in page.text
    assert set(re.findall(r'data-material="([^"]+)"', page.text)) == {"M1", "M3"}
    assert dict(re.findall(r'data-po="([^"]+)" data-status="([^"]+)"', page.text)) == {
        "PO1": "on_time",
        "PO2": "late",
        "PO3": "short",
        "PO4": "late",
    }
    assert figure(page.text, "on_time_rate") == "25.0%"
    assert 'data-nav="supplier"' in page.text and 'data-nav="supply"' not in page.text
    for path in ("/console/supply/health", "/console/supply", "/console/customers"):
        assert client.get(path).status_code == 403, path


def test_a_planner_chooses_the_supplier(client: TestClient, oltp: Engine, chain: None) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    empty = client.get("/console/supplier")
    assert 'id="choose-supplier"' in empty.text
    assert re.findall(r'<option value="(V\d)"', empty.text) == ["V1", "V2"]
    page = client.get("/console/supplier", params={"supplier_id": "V2"})
    assert set(re.findall(r'data-material="([^"]+)"', page.text)) == {"M2"}
    unknown = client.get("/console/supplier", params={"supplier_id": "V9"})
    assert 'data-outcome="unknown_supplier"' in unknown.text
