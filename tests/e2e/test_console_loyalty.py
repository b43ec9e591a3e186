"""The loyalty console in real headless Chromium against ``newretail serve``: a marketer opens the
membership schemes and one scheme's rules, then the coupon templates (table and chart), has a bad
amount refused beside its field and creates a template; a service agent opens a member's person
page, refunds a wallet-paid order from its Service section and sees the wallet restored. No request
leaves 127.0.0.1; screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from tests.e2e.test_api_serve import Server, prepared_home
from tests.unit.web.chain import Order, write_chain
from tests.unit.web.loyalty_seed import World, seed

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings
from newretail.security import Principal, create_user

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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
def running(isolated_home: Path) -> Iterator[tuple[Server, World]]:
    """A server over a home holding the seeded loyalty world, a marketer and a service agent."""
    prepared_home(isolated_home)
    settings = Settings(home=isolated_home)
    database = engine_from_settings(settings)
    now = dt.datetime.now(dt.UTC)
    lake = Lake(settings.lake_dir)
    world = seed(database, lake, settings, now=now)
    write_chain(lake, [Order("SH01", now.date(), "pos", 1_000)])  # the 360 reads lake orders
    with database.begin() as conn:
        for email, role in (("mk@example.com", "marketer"), ("sam@example.com", "service_agent")):
            create_user(
                conn, actor=Principal.cli(), email=email, role=role, password=PASSWORD, now=now
            )
    database.dispose()
    server = Server(isolated_home).start()
    try:
        yield server, world
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


def signed_in(browser: Browser, server: Server, email: str, requests: list[str]) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.url}/console/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    # A service agent has no overview and lands on the first area it may open.
    page.wait_for_url(f"{server.url}/console/**")
    return page


def test_a_marketer_creates_a_template_and_an_agent_refunds_an_order(
    running: tuple[Server, World], browser: Browser
) -> None:
    server, world = running
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)

    page = signed_in(browser, server, "mk@example.com", requests)
    page.click("[data-nav=membership]")
    page.wait_for_url(f"{server.url}/console/loyalty/schemes")
    page.wait_for_selector("body[data-charts-ready=true]")
    page.click('tr[data-scheme="coffee_club"] a')
    sync_api.expect(
        page.locator('#tiers tr[data-tier="green"] [data-figure="members"]')
    ).to_have_text("1")
    page.screenshot(path=str(ARTIFACTS / "console-scheme.png"), full_page=True)
    page.click("[data-nav=coupons]")
    page.wait_for_url(f"{server.url}/console/coupons")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#loyalty-chart canvas").count() >= 1
    welcome = page.locator('#templates tr[data-template="welcome_5_off"]')
    sync_api.expect(welcome.locator('[data-figure="redeemed"]')).to_have_text("1")
    sync_api.expect(welcome.locator('[data-figure="cost"]')).to_have_text("¥5.00")

    form = page.locator("#new-template")
    form.locator("[name=template_id]").fill("spring_8_off")
    form.locator("[name=name]").fill("春季满40减8")
    form.locator("[name=name_en]").fill("Spring: 8 off 40")
    form.locator("[name=amount_off]").fill("8.005")
    form.locator("[name=threshold]").fill("40")
    form.locator("[name=valid_days]").fill("30")
    form.locator("#create-template").click()
    error = page.locator('[data-error-for="amount_off"]')
    sync_api.expect(error).to_contain_text("at most 2 decimals")
    page.screenshot(path=str(ARTIFACTS / "console-coupons-refused.png"), full_page=True)
    form.locator("[name=amount_off]").fill("8")
    form.locator("#create-template").click()
    page.wait_for_url(f"{server.url}/console/coupons/spring_8_off?done=created")
    sync_api.expect(page.locator("#benefit")).to_have_text("¥8.00 off orders of ¥40.00 or more")
    page.screenshot(path=str(ARTIFACTS / "console-coupon-template.png"), full_page=True)

    agent = signed_in(browser, server, "sam@example.com", requests)
    agent.goto(f"{server.url}/console/customers/{world.person_id}")
    card = agent.locator(f'#loyalty [data-membership="{world.membership_id}"]')
    sync_api.expect(card.locator('[data-figure="wallet"]')).to_have_text("¥40.00")
    order = agent.locator(f'#service tr[data-order-detail="{world.wallet_order}"]')
    order.locator("summary").click()
    order.locator('[data-action="refund-whole"]').click()
    sync_api.expect(agent.locator("#service-outcome")).to_have_attribute("data-outcome", "refunded")
    row = agent.locator(f'#service tr.service-order[data-order="{world.wallet_order}"]')
    sync_api.expect(row).to_have_attribute("data-status", "refunded")
    sync_api.expect(row.locator('[data-figure="refunded"]')).to_have_text("¥66.00")
    agent.reload()
    sync_api.expect(card.locator('[data-figure="wallet"]')).to_have_text("¥100.00")
    sync_api.expect(card.locator('[data-figure="bonus"]')).to_have_text("¥10.00")
    sync_api.expect(agent.locator("#service-orders")).to_be_visible()
    agent.screenshot(path=str(ARTIFACTS / "console-person-service.png"), full_page=True)
    outside = [
        u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
