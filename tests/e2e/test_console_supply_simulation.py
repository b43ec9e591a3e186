"""The forecast and simulation pages in real headless Chromium against ``newretail serve``: a planner
reads the forecast charts, opens the simulation comparison from the supply sub-navigation, sees the
policies side by side and both charts drawn, and tries to run a new simulation on a home without the
chain's ground truth, which the page reports in the server's words. No request leaves 127.0.0.1;
screenshots land in ``test-artifacts/``."""

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
from tests.integration.supply_forecast_lake import write_forecast_chain

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
    """A server over a home with a published forecast, a saved simulation and a supply planner."""
    yield from serving(
        isolated_home, email="plan@example.com", role="supply_planner", lake=write_forecast_chain
    )


def test_a_planner_compares_the_policies(server: Server, browser: Browser) -> None:
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, server, "plan@example.com", requests)
    page.goto(f"{server.url}/console/supply/forecast")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#total canvas").count() >= 1
    assert page.locator("#prep canvas").count() >= 1
    sync_api.expect(page.locator('#accuracy tr[data-serving="true"]')).to_have_count(3)
    page.screenshot(path=str(ARTIFACTS / "console-supply-forecast.png"), full_page=True)

    page.click("[data-supply-tab=simulation]")
    page.wait_for_url(f"{server.url}/console/supply/simulation")
    page.wait_for_selector("body[data-charts-ready=true]")
    sync_api.expect(page.locator("#policies tbody tr")).to_have_count(3)
    best = page.locator('#policies tr[data-policy="forecast_0.98"]')
    sync_api.expect(best.locator('[data-figure="waste_vs_baseline"]')).to_have_text("-40.0%")
    sync_api.expect(best.locator(".tag-yes")).to_be_visible()
    assert page.locator("#in-stock-card canvas").count() >= 1
    assert page.locator("#waste-card canvas").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "console-supply-simulation.png"), full_page=True)

    page.fill("#run-simulation [name=weeks]", "2")
    page.click("#run-button")
    status = page.locator("#sim-status")
    sync_api.expect(status).to_have_attribute("data-state", "failed")
    sync_api.expect(status).to_contain_text("no true demand")
    sync_api.expect(page.locator("#run-button")).to_be_enabled()
    outside = [
        u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
