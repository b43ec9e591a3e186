"""Replenishment in real headless Chromium against ``newretail serve``: a planner opens tomorrow's
orders from the navigation, reads why a line orders what it does, edits a line's packs with a
reason, approves a store's lines in one click and sees them become approved and ordered. No request
leaves 127.0.0.1; screenshots land in ``test-artifacts/``."""

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
from tests.integration.supply_plan_setup import NAMES, small_draft

from newretail.supply.replenish.plans import save_plan

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
    """A server over a home with one saved plan and a supply planner."""
    yield from serving(
        isolated_home,
        email="plan@example.com",
        role="supply_planner",
        rows=lambda conn, now: save_plan(
            conn, small_draft(now.date()), now=now, material_names=NAMES
        ),
    )


def test_a_planner_edits_a_line_and_approves_a_store(server: Server, browser: Browser) -> None:
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, server, "plan@example.com", requests)
    page.click("[data-nav=supply]")
    page.wait_for_url(f"{server.url}/console/supply")
    sync_api.expect(page.locator("[data-supply-tab=replenishment]")).to_have_attribute(
        "aria-current", "page"
    )
    s1 = page.locator('section[data-location="store:S1"]')
    croissants = s1.locator('tr.supply-line[data-material="M016"]')
    line_id = croissants.get_attribute("data-line")
    detail = page.locator(f'tr[data-line-detail="{line_id}"]')
    detail.locator("summary").click()
    sync_api.expect(detail.locator('[data-figure="forecast"]')).to_have_text("40.0")
    sync_api.expect(detail.locator('[data-figure="position"]')).to_have_text("500")

    edit = detail.locator('form[data-action="edit"]')
    edit.locator("[name=packs]").fill("5")
    edit.locator("[name=reason]").fill("school fair on Saturday")
    edit.locator("button[type=submit]").click()
    sync_api.expect(page.locator("#outcome")).to_have_attribute("data-outcome", "edited")
    sync_api.expect(croissants).to_have_attribute("data-status", "edited")
    sync_api.expect(croissants.locator('[data-figure="packs"]')).to_contain_text("5")

    s1.locator('[data-action="approve-location"]').click()
    sync_api.expect(page.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    for row in (croissants, s1.locator('tr.supply-line[data-material="M001"]')):
        sync_api.expect(row).to_have_attribute("data-status", "approved")
        sync_api.expect(row.locator('[data-figure="order"]')).to_be_visible()
    s2 = page.locator('section[data-location="store:S2"] tr.supply-line').first
    sync_api.expect(s2).to_have_attribute("data-status", "proposed")
    sync_api.expect(s1.locator('[data-action="approve-location"]')).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "console-supply.png"), full_page=True)
    outside = [
        u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
