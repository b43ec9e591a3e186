"""The live page of a flash sale in real headless Chromium against ``newretail serve``: a marketer
signs in, opens the page of a running sale, shoppers reserve through the API meanwhile, and the page
shows the numbers change (reservations, units left, the rejections table, the chart) with no request
leaving 127.0.0.1. A screenshot lands in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from tests.e2e.test_api_serve import Server, prepared_home

from newretail.config import Settings
from newretail.oltp import engine_from_settings
from newretail.security import Principal, create_user, create_user_key

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def running(isolated_home: Path) -> Iterator[tuple[Server, str, str]]:
    """A server, a sale open now with 100 units (persons s0… may buy, 1 each), a channel key."""
    admin = prepared_home(isolated_home).admin
    database = engine_from_settings(Settings(home=isolated_home))
    now = dt.datetime.now(dt.UTC)
    with database.begin() as conn:
        for email, role in (("mk@example.com", "marketer"), ("shop@example.com", "channel")):
            create_user(
                conn, actor=Principal.cli(), email=email, role=role, password=PASSWORD, now=now
            )
        channel = create_user_key(conn, actor=Principal.cli(), email="shop@example.com", now=now)
    database.dispose()
    server = Server(isolated_home).start()
    headers = {"Authorization": f"Bearer {admin}"}
    sale = {
        "id": "fs-live",
        "name": "Live page test",
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "per_person_limit": 1,
        "channels": ["app"],
        "eligibility": "list",
        "eligible_person_ids": [f"s{n}" for n in range(50)],
        "items": [{"sku": "SKU-A", "stock": 100, "price_minor": 990, "currency": "CNY"}],
    }
    for path, body in (("/api/v1/flashsales", sale), ("/api/v1/flashsales/fs-live/arm", None)):
        answer = httpx.post(
            server.url + path,
            json=body,
            headers={**headers, "Idempotency-Key": secrets.token_hex(6)},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
    try:
        yield server, "fs-live", channel.key
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def test_the_live_page_shows_the_sale_moving(
    running: tuple[Server, str, str], browser: Browser
) -> None:
    server, sale, key = running
    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.url}/console/login")
    page.fill("#email", "mk@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console/")
    page.goto(f"{server.url}/console/flashsales")
    page.click(f"tr[data-sale={sale}] a")
    page.wait_for_url(f"{server.url}/console/flashsales/{sale}")
    # Two polls drawn (the page's CSP allows no eval, so no wait_for_function).
    sync_api.expect(page.locator("body")).to_have_attribute(
        "data-live-ticks", re.compile(r"^([2-9]|\d{2,})$")
    )
    sync_api.expect(page.locator('[data-figure="reservations"]')).to_have_text("0")

    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as shop:
        for person in ("s1", "s2", "s3", "s4", "s5", "nobody"):
            shop.post(
                f"/api/v1/flashsales/{sale}/reservations",
                json={"sku": "SKU-A", "person_id": person},
                headers={
                    "Idempotency-Key": f"k-{person}",
                    "X-Forwarded-For": f"10.0.0.{len(person)}",
                },
            )
    sync_api.expect(page.locator('[data-figure="reservations"]')).to_have_text("5", timeout=15_000)
    sync_api.expect(
        page.locator('#items tr[data-sku="SKU-A"] [data-item="remaining"]')
    ).to_have_text("95")
    sync_api.expect(
        page.locator('#rejections tr[data-code="flashsale.ineligible"]')
    ).to_contain_text("1")
    # The order writer catches up: the backlog returns to zero and the orders count reaches 5.
    sync_api.expect(page.locator('[data-figure="orders"]')).to_have_text("5", timeout=15_000)
    sync_api.expect(page.locator('[data-figure="backlog"]')).to_have_text("0")
    assert page.locator("#rates canvas").count() >= 1
    page.click('a[href="#def-backlog"]')
    sync_api.expect(page.locator("#def-backlog")).to_contain_text("order writer")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-flashsale-live.png"), full_page=True)
    outside = [
        u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
