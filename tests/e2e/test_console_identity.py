"""OneID in the console, in real headless Chromium against the real app (API and console) over a
generated chain: search a customer by phone, open the member 360 with its identities and chart, merge
two persons through the API and un-merge them with the page's button, the review queue, and the
language switch. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
from tests.e2e.test_console_browser import (
    ARTIFACTS,
    CHROMIUM,
    PASSWORD,
    assert_local,
    free_port,
    new_page,
    sign_in,
)
from tests.e2e.test_console_browser import browser as browser
from tests.integration.identity_chain import (
    build_chain,
    clear_phones,
    persons_with_orders,
    records_by_person,
    resolve,
)

from newretail.api import create_app
from newretail.config import Settings
from newretail.oltp import engine_from_settings, upgrade
from newretail.security import Principal, create_user, create_user_key

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
EMAIL = "ana@example.com"


@dataclass(frozen=True)
class Server:
    base: str
    api_key: str
    person: str  # has several records, orders and a phone
    phone: str  # the person's phone, as a cashier would type it
    other: str  # another person with several records, to merge into ``person``
    records: dict[str, int]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    home = build_chain(tmp_path_factory.mktemp("identity"))
    settings = Settings(home=home)
    engine = engine_from_settings(settings)
    upgrade(engine)
    resolve(home, engine, home / "identity" / "model.json")
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        create_user(
            conn, actor=Principal.cli(), email=EMAIL, role="analyst", password=PASSWORD, now=now
        )
        key = create_user_key(conn, actor=Principal.cli(), email=EMAIL, now=now).key
    persons = records_by_person(engine)
    ordered = {p for p, _ in persons_with_orders(home, engine)}
    candidates = sorted(
        (p for p in ordered if len(persons[p]) >= 2 and clear_phones(home, persons[p])),
        key=lambda p: (-len(persons[p]), p),
    )
    person = candidates[0]
    other = next(p for p in sorted(persons) if p != person and len(persons[p]) >= 2)
    national = re.sub(r"^\+(86|65)", "", sorted(clear_phones(home, persons[person]))[0])
    engine.dispose()

    app = create_app(settings, flush_in_background=False)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Server(
        base=f"http://127.0.0.1:{port}",
        api_key=key,
        person=person,
        phone=f"{national[:3]} {national[3:7]} {national[7:]}",
        other=other,
        records={p: len(persons[p]) for p in (person, other)},
    )
    uv.should_exit = True
    thread.join(timeout=10)


def test_a_customer_from_search_to_unmerge(server: Server, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page = new_page(browser, requests)
    sign_in(page, server.base, EMAIL)
    page.click("[data-nav=customers]")
    page.wait_for_url(f"{server.base}/console/customers")
    page.fill("#customer-query", server.phone)
    page.click("#customer-search button[type=submit]")
    hit = page.locator(f"#customer-results tr[data-person='{server.person}']")
    sync_api.expect(hit).to_be_visible()
    sync_api.expect(hit).to_contain_text("Phone")  # found by
    page.screenshot(path=str(ARTIFACTS / "console-customers-search.png"), full_page=True)
    hit.locator("a").click()
    page.wait_for_url(f"{server.base}/console/customers/{server.person}")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#person-chart canvas").count() >= 1
    rows = page.locator("#identities tr.identity")
    sync_api.expect(rows).to_have_count(server.records[server.person])
    sync_api.expect(rows.first).to_contain_text(re.compile("Shared identifier|Probable match"))
    assert re.search(r"\d{3}\*{4}\d{4}", page.locator("#golden-phone").inner_text())
    page.screenshot(path=str(ARTIFACTS / "console-person-360.png"), full_page=True)

    merged = httpx.post(
        f"{server.base}/api/v1/persons/{server.person}/merge",
        json={"absorb": server.other, "reason": "same customer"},
        headers={
            "Authorization": f"Bearer {server.api_key}",
            "Idempotency-Key": secrets.token_hex(8),
        },
    )
    assert merged.status_code == 200, merged.text
    page.reload()
    both = server.records[server.person] + server.records[server.other]
    sync_api.expect(rows).to_have_count(both)
    event = page.locator(f"#merges tr[data-event='{merged.json()['id']}']")
    event.locator("button[data-action=unmerge]").click()
    page.wait_for_url(f"{server.base}/console/customers/{server.person}?done=unmerged")
    sync_api.expect(rows).to_have_count(server.records[server.person])
    sync_api.expect(page.locator("#outcome")).to_contain_text("The merge was undone")
    sync_api.expect(page.locator("#merges button[data-action=remerge]")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "console-person-unmerged.png"), full_page=True)

    page.click("#lang-switch")
    sync_api.expect(page.locator("#identities h2")).to_contain_text("身份记录")
    sync_api.expect(page.locator("[data-nav=customers]")).to_contain_text("客户")
    page.click("#lang-switch")
    sync_api.expect(page.locator("#identities h2")).to_contain_text("Identities")
    assert_local(requests)


def test_the_review_queue_in_a_browser(server: Server, browser: Browser) -> None:
    requests: list[str] = []
    page = new_page(browser, requests)
    sign_in(page, server.base, EMAIL)
    page.click("[data-nav=review]")
    page.wait_for_url(f"{server.base}/console/review")
    items = page.locator("article.review-item")
    count = items.count()
    assert count > 1
    first = items.first.get_attribute("data-review")
    items.first.locator("button[data-action=reject]").click()
    page.wait_for_url(f"{server.base}/console/review?done=rejected")
    sync_api.expect(page.locator(f"article[data-review='{first}']")).to_have_count(0)
    sync_api.expect(page.locator("#outcome")).to_contain_text("kept apart")
    page.screenshot(path=str(ARTIFACTS / "console-review.png"), full_page=True)
    assert_local(requests)
