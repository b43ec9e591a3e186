"""Inventory health in real headless Chromium against ``newretail serve``: a planner opens the page
from the supply sub-navigation, sees the chain's figures, the four charts drawn, a row per store,
regroups by material and reads a figure's definition. No request leaves 127.0.0.1; a screenshot
lands in ``test-artifacts/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from tests.e2e.supply_console import serving
from tests.e2e.test_api_serve import Server
from tests.e2e.test_console_loyalty import ARTIFACTS, CHROMIUM, signed_in
from tests.e2e.test_console_loyalty import browser as browser
from tests.integration.supply_health_lake import FIRST, LAST, write_chain

if TYPE_CHECKING:
    from playwright.sync_api import Browser

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def server(isolated_home: Path) -> Iterator[Server]:
    """A server over a home with the two-store chain in its lake and a supply planner."""
    yield from serving(
        isolated_home, email="plan@example.com", role="supply_planner", lake=write_chain
    )


def test_a_planner_reads_inventory_health(server: Server, browser: Browser) -> None:
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, server, "plan@example.com", requests)
    page.goto(f"{server.url}/console/supply/health?from={FIRST}&to={LAST}")
    page.wait_for_selector("body[data-charts-ready=true]")
    for chart in ("in_stock", "cover", "waste", "aging"):
        assert page.locator(f'[data-chart="{chart}"] canvas').count() >= 1, chart
    # 52 of the 54 store-days × core materials had stock (S1 ran out of milk twice).
    sync_api.expect(page.locator('#health-kpis [data-figure="in_stock_rate"]')).to_have_text(
        "96.3%"
    )
    rows = page.locator("#health-table tbody tr")
    sync_api.expect(rows).to_have_count(2)
    sync_api.expect(page.locator('tr[data-key="S1"] [data-figure="in_stock_rate"]')).to_have_text(
        "92.9%"
    )
    page.screenshot(path=str(ARTIFACTS / "console-supply-health.png"), full_page=True)

    page.select_option("#group-by", "material")
    page.locator('#health-filters button[type="submit"]').click()
    page.wait_for_url("**/console/supply/health?*group_by=material*")
    sync_api.expect(page.locator("#health-table")).to_have_attribute("data-group-by", "material")
    sync_api.expect(page.locator("#health-table tbody tr")).to_have_count(3)
    # Each figure's definition is its link's title and the glossary entry the link leads to.
    link = page.locator('#health-kpis [data-kpi="days_of_inventory"] .def-link')
    assert link.get_attribute("href") == "#def-days_of_inventory"
    glossary = page.locator("#def-days_of_inventory dd").inner_text()
    assert glossary and link.get_attribute("title") == glossary
    hosts = {urlsplit(url).hostname for url in requests}
    assert hosts == {"127.0.0.1"}, hosts
