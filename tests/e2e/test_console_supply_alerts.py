"""The supply alerts page in real headless Chromium against ``newretail serve``: with the alerts of the
hand-made chain (``tests/unit/supply_alert_chain``) saved in the server's home, a store manager finds
them through the supply sub-navigation, sees only its store's, grouped by severity with their
figures, and acknowledges one. No request leaves 127.0.0.1; a screenshot lands in
``test-artifacts/``."""

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
from tests.unit.supply_alert_chain import AS_OF

from newretail.supply.alerts import Alert, save_alerts

if TYPE_CHECKING:
    from playwright.sync_api import Browser

STOCKOUT = {
    "on_hand": 1500,
    "in_transit": 0,
    "daily_forecast": 1000.0,
    "forecast_to_delivery": 2000.0,
    "cover_days": 1,
    "lead_days": 2,
    "stockout_on": "2026-03-12",
    "next_delivery_on": "2026-03-13",
    "short_quantity": 500,
    "rescue_tonight": True,
    "unit": "ml",
}
SHORT = {
    "po_ids": ["PO-S2"],
    "from_type": "warehouse",
    "from_id": "W1",
    "expected_on": "2026-03-10",
    "ordered_packs": 3,
    "delivered_packs": 1,
    "short_packs": 2,
    "pack_size": 10,
    "short_quantity": 20,
    "unit": "piece",
}
ALERTS = [
    Alert("stockout", "high", "store", "S2", "M1", AS_OF, STOCKOUT),
    Alert("short_delivery", "high", "store", "S2", "M2", AS_OF, SHORT),
    Alert("stockout", "critical", "store", "S4", "M1", AS_OF, STOCKOUT | {"cover_days": 0}),
    Alert("late_delivery", "high", "warehouse", "W1", "M1", AS_OF, {"days_late": 1}),
]

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
    """A server over a home holding the chain's alerts as of AS_OF, with a manager of store S2."""
    yield from serving(
        isolated_home,
        email="sm@example.com",
        role="store_manager",
        stores=("S2",),
        rows=lambda conn, now: save_alerts(conn, ALERTS, now=now),
    )


def test_a_store_manager_acknowledges_its_stores_alert(server: Server, browser: Browser) -> None:
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, server, "sm@example.com", requests)

    page.click("[data-nav=supply]")
    page.click("[data-supply-tab=alerts]")
    page.wait_for_url(f"{server.url}/console/supply/alerts")
    rows = page.locator("tr.supply-alert")
    # S2's two alerts, and nothing of S1, S4 or the DC.
    sync_api.expect(rows).to_have_count(2)
    stockout = page.locator('tr[data-key="stockout/store/S2/M1/2026-03-10"]')
    short = page.locator('tr[data-key="short_delivery/store/S2/M2/2026-03-10"]')
    assert page.locator("#severity-high tr.supply-alert").count() == 2
    stockout.locator("summary").click()
    sync_api.expect(stockout.locator('[data-figure="cover_days"]')).to_have_text("1")
    sync_api.expect(stockout.locator('[data-figure="on_hand"]')).to_have_text("1,500")
    sync_api.expect(short.locator('[data-figure="status"]')).to_have_attribute("class", "tag")
    page.screenshot(path=str(ARTIFACTS / "console-supply-alerts.png"), full_page=True)

    stockout.locator('[data-action="acknowledge"]').click()
    page.wait_for_url(f"{server.url}/console/supply/alerts?done=acknowledged")
    sync_api.expect(page.locator("#outcome")).to_have_attribute("data-outcome", "acknowledged")
    sync_api.expect(
        page.locator('tr[data-key="stockout/store/S2/M1/2026-03-10"]')
    ).to_have_attribute("data-status", "acknowledged")
    sync_api.expect(page.locator('[data-action="acknowledge"]')).to_have_count(1)
    assert {urlsplit(url).hostname for url in requests} == {"127.0.0.1"}
