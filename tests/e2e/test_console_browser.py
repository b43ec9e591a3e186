"""The console in real headless Chromium against a real server: sign in, the overview's charts drawn,
the language switch, a definition opened, the audit log filtered with htmx, and not one request
leaving 127.0.0.1. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from tests.unit.web.chain import seeded_month, write_chain

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import make_engine, upgrade
from newretail.security import Principal, create_user
from newretail.web import mount_static, router

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
LAST_DAY = dt.date(2026, 3, 31)

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    oltp = make_engine(f"sqlite+pysqlite:///{home / 'oltp.sqlite3'}")
    upgrade(oltp)
    now = dt.datetime.now(dt.UTC)
    with oltp.begin() as conn:
        for email, role in (("admin@example.com", "admin"), ("ana@example.com", "analyst")):
            create_user(
                conn, actor=Principal.cli(), email=email, role=role, password=PASSWORD, now=now
            )
    lake = Lake(home / "lake")
    write_chain(lake, seeded_month(LAST_DAY, days=60))
    app = FastAPI()
    app.state.settings, app.state.engine, app.state.lake = settings, oltp, lake
    app.include_router(router)
    mount_static(app)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    oltp.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def new_page(browser: Browser, requests: list[str]) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 960}, locale="en-US")
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    return page


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")


def assert_local(requests: list[str]) -> None:
    assert requests
    outside = [
        u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []


def test_the_overview_in_a_browser(server: str, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page = new_page(browser, requests)
    page.goto(f"{server}/console/login")
    page.screenshot(path=str(ARTIFACTS / "console-login.png"))
    page.fill("#email", "ana@example.com")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    sync_api.expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    sign_in(page, server, "ana@example.com")

    page.wait_for_selector("body[data-charts-ready=true]")
    for chart in ("#trend", "#channels"):
        assert page.locator(f"{chart} canvas").count() >= 1
    sync_api.expect(page.locator("[data-kpi=sales] .label")).to_contain_text("Sales")
    sync_api.expect(page.locator("[data-kpi=sales] .unit")).to_have_text(["CNY", "SGD"])
    page.screenshot(path=str(ARTIFACTS / "console-overview-en.png"), full_page=True)

    page.click("[data-kpi=basket] .def-link")
    assert page.url.endswith("#def-basket")
    definition = page.locator("#def-basket")
    sync_api.expect(definition).to_be_in_viewport()
    sync_api.expect(definition).to_contain_text("Sales divided by completed orders")

    page.click("#lang-switch")
    page.wait_for_selector("body[data-charts-ready=true]")
    sync_api.expect(page.locator("[data-kpi=sales] .label")).to_contain_text("销售额")
    sync_api.expect(page.locator("[data-nav=supply]")).to_contain_text("供应链")
    page.screenshot(path=str(ARTIFACTS / "console-overview-zh.png"), full_page=True)
    page.click("#lang-switch")
    sync_api.expect(page.locator("[data-kpi=sales] .label")).to_contain_text("Sales")
    assert_local(requests)


def test_the_audit_log_in_a_browser(server: str, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page = new_page(browser, requests)
    sign_in(page, server, "admin@example.com")
    page.click("[data-nav=audit]")
    page.wait_for_url(f"{server}/console/audit")
    rows = page.locator("#audit-results tbody tr")
    sync_api.expect(rows.first).to_be_visible()
    page.select_option("select[name=action]", "auth.login_failed")
    page.wait_for_url(f"{server}/console/audit?action=auth.login_failed")  # htmx pushed the URL
    sync_api.expect(rows.first).to_have_attribute("data-action", "auth.login_failed")
    page.select_option("select[name=action]", "")
    sync_api.expect(
        page.locator("#audit-results tbody tr[data-action='auth.login']").first
    ).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "console-audit.png"), full_page=True)
    assert_local(requests)
