"""Tags and audiences in real headless Chromium against ``newretail serve`` over a generated, tagged
chain: a marketer reads the tag catalogue's coverage and a tag's distribution, builds an audience
watching the count follow the typing (each count equal to the API's for the same text), fixes a typo
with the hint chip, picks a tag from the picker, sees the breakdown charts, saves the audience, finds
its first size point, freezes a snapshot and exports it as CSV for SMS (the file has as many rows as
the answer said); selects stores on the map and takes them to the builder; reads a member's tags.
No request leaves 127.0.0.1. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest
from tests.e2e.test_api_serve import Server
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM, PASSWORD, assert_local, new_page
from tests.e2e.test_console_browser import browser as browser
from tests.integration.audience_home import build_audience_home

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings
from newretail.security import Principal, create_user
from newretail.tags.compute import latest_refresh

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}"),
]
EMAIL = "mia@example.com"
FIRST = "orders_total >= 2"
SECOND = "orders_total >= 2 AND lifecycle_stage = 'lapsing'"
TYPO = "orders_total >= 2 AND lifecycle_stag = 'lapsing'"


@dataclass(frozen=True)
class Running:
    base: str
    person: str  # a person with a lifecycle stage


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("audiences-e2e")
    home = build_audience_home(root / "home", root / "chain")
    database = engine_from_settings(Settings(home=home))
    with database.begin() as conn:
        create_user(
            conn,
            actor=Principal.cli(),
            email=EMAIL,
            role="marketer",
            password=PASSWORD,
            now=dt.datetime.now(dt.UTC),
        )
    database.dispose()
    refresh = latest_refresh(Lake(Settings(home=home).lake_dir), "person")
    assert refresh is not None
    stages = pq.read_table(refresh.path, columns=["person_id", "lifecycle_stage"]).to_pylist()
    person = next(row["person_id"] for row in stages if row["lifecycle_stage"] is not None)
    server = Server(home).start()
    try:
        yield Running(base=server.url, person=person)
    finally:
        server.stop()


def api_count(page: Page, text: str, entity: str = "person") -> int:
    """What POST /api/v1/audiences/count answers for ``text``, asked with the page's session."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.post(
        page.url.split("/console")[0] + "/api/v1/audiences/count",
        data={"text": text, "entity": entity},
        headers={"X-CSRF-Token": token or ""},
    )
    assert answer.ok, answer.text()
    size: int = answer.json()["size"]
    return size


def api_post(page: Page, path: str, body: dict[str, object]) -> dict[str, object]:
    """A write through the API with the page's session, its CSRF token and an Idempotency-Key."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.post(
        page.url.split("/console")[0] + path,
        data=body,
        headers={"X-CSRF-Token": token or "", "Idempotency-Key": secrets.token_hex(8)},
    )
    assert answer.ok, answer.text()
    found: dict[str, object] = answer.json()
    return found


def top(page: Page) -> None:
    """Back to the top, so a full-page screenshot does not cut through the sticky top bar."""
    page.mouse.wheel(0, -100_000)


def retype(page: Page, text: str) -> None:
    """Clear the editor and type ``text`` key by key, as a person does."""
    editor = page.locator("#expression")
    editor.fill("")
    editor.press_sequentially(text, delay=25)


def test_a_marketer_builds_saves_and_exports_an_audience(
    running: Running, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = running.base
    requests: list[str] = []
    page = new_page(browser, requests)
    page.goto(f"{base}/console/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    # The catalogue: coverage per tag, the snapshot's date; a tag's distribution.
    page.click("[data-nav=tags]")
    page.wait_for_url(f"{base}/console/tags")
    sync_api.expect(page.locator("#freshness")).to_contain_text("Snapshot as of")
    coverage = page.locator("#tags tr[data-tag=lifecycle_stage] [data-coverage]")
    sync_api.expect(coverage).to_have_text(re.compile(r"^\d{1,3}\.\d%$"))
    page.screenshot(path=str(ARTIFACTS / "console-tags.png"), full_page=False)
    page.click("#tags tr[data-tag=lifecycle_stage] a")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#distribution-chart canvas").count() >= 1
    sync_api.expect(page.locator("#tag-definition")).to_contain_text("CASE WHEN")
    page.screenshot(path=str(ARTIFACTS / "console-tag.png"), full_page=True)

    # The builder: the count follows the typing and equals the API's.
    page.click("[data-nav=audiences]")
    page.click("#new-audience")
    page.wait_for_url(f"{base}/console/audiences/new")
    other = api_post(page, "/api/v1/audiences", {"name": "SMS opt-ins", "text": "consent_sms"})
    page.reload()
    size = page.locator("#count-size")
    retype(page, FIRST)
    first = api_count(page, FIRST)
    sync_api.expect(size).to_have_attribute("data-size", str(first))
    page.locator("#expression").press_sequentially(SECOND[len(FIRST) :], delay=25)
    second = api_count(page, SECOND)
    assert second != first
    sync_api.expect(size).to_have_attribute("data-size", str(second))
    sync_api.expect(size).to_have_text(f"{second:,}")

    # A typo: the message, the word marked, a hint chip that fixes it.
    retype(page, TYPO)
    sync_api.expect(page.locator("#expr-error")).to_be_visible()
    sync_api.expect(page.locator("#expr-message")).to_contain_text("lifecycle_stag")
    sync_api.expect(page.locator("#expr-mark .bad")).to_have_text("lifecycle_stag")
    sync_api.expect(size).to_have_attribute("data-size", "")
    page.screenshot(path=str(ARTIFACTS / "console-audience-typo.png"), full_page=False)
    page.click("#expr-hints button[data-hint=lifecycle_stage]")
    sync_api.expect(page.locator("#expression")).to_have_value(SECOND)
    sync_api.expect(page.locator("#expr-error")).to_be_hidden()
    sync_api.expect(size).to_have_attribute("data-size", str(second))

    # The breakdown follows the count; the picker inserts a tag at the cursor.
    page.wait_for_selector("body[data-breakdown-ready=true]")
    sync_api.expect(page.locator("#breakdown-charts")).to_have_attribute("data-size", str(second))
    for tag in ("home_city", "favourite_channel", "lifecycle_stage"):
        assert page.locator(f"#bd-{tag} canvas").count() >= 1
    overlap = api_post(
        page, "/api/v1/audiences/overlap", {"a": {"text": SECOND}, "b": {"text": "consent_sms"}}
    )
    page.select_option("#overlap-with", str(other["id"]))
    sync_api.expect(page.locator("#ov-both")).to_have_text(f"{overlap['both']:,}")
    sync_api.expect(page.locator("#ov-only-a")).to_have_text(f"{overlap['only_a']:,}")
    assert page.locator("#overlap-chart canvas").count() >= 1
    page.locator("#expression").press("End")
    page.locator("#expression").press_sequentially(" AND NOT", delay=25)
    page.fill("#picker-q", "sms_opt")
    page.click("#picker-list li[data-tag=sms_opt_out] button.pick")
    final = f"{SECOND} AND NOT sms_opt_out"
    sync_api.expect(page.locator("#expression")).to_have_value(final)
    final_size = api_count(page, final)
    sync_api.expect(size).to_have_attribute("data-size", str(final_size))
    # The breakdown catches up (throttled to once a second, the last text always drawn).
    sync_api.expect(page.locator("#breakdown-charts")).to_have_attribute(
        "data-size", str(final_size)
    )
    top(page)
    page.screenshot(path=str(ARTIFACTS / "console-audience-builder.png"), full_page=True)

    # Save; the saved page has a first size point; freeze; export for SMS.
    page.fill("#audience-name", "Lapsing repeat buyers")
    page.fill("#audience-description-input", "Win-back test")
    page.click("#save-audience")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/console/audiences/aud_\w+\?done=created"))
    sync_api.expect(page.locator("#outcome")).to_be_visible()
    sync_api.expect(page.locator("#sizes-chart")).to_have_attribute("data-points", "1")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.locator("#sizes-chart canvas").count() >= 1
    audience = page.url.split("/console/audiences/")[1].split("?")[0]
    page.fill("#snapshot-label", "spring-winback")
    page.click("#freeze")
    page.wait_for_url(f"{base}/console/audiences/{audience}?done=frozen")
    sync_api.expect(page.locator("#snapshot-list tbody tr")).to_have_count(1)
    page.select_option("#export-kind", "csv")
    page.select_option("#export-consent", "sms")
    sync_api.expect(page.locator("#export-note")).to_contain_text("audit log")
    page.click("#export-button")
    link = page.locator("#export-link")
    sync_api.expect(link).to_be_visible()
    rows = int(link.get_attribute("data-rows") or "-1")
    download = page.request.get(base + (link.get_attribute("href") or ""))
    assert download.ok and download.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(download.text())))
    assert rows >= 0 and len(table) - 1 == rows
    top(page)
    page.screenshot(path=str(ARTIFACTS / "console-audience-saved.png"), full_page=True)

    # Store selection: the map and the list agree with the count; on to the builder.
    page.click("[data-nav=store_select]")
    page.wait_for_url(f"{base}/console/stores/select")
    page.wait_for_selector("body[data-selection-ready]")
    retype(page, "format = 'pickup'")
    pickup = api_count(page, "format = 'pickup'", entity="store")
    sync_api.expect(page.locator("#count-size")).to_have_attribute("data-size", str(pickup))
    sync_api.expect(page.locator("#store-list tbody tr")).to_have_count(pickup)
    sync_api.expect(page.locator("#store-map")).to_have_attribute("data-selected", str(pickup))
    assert page.locator("#store-map canvas").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "console-store-selection.png"), full_page=True)
    page.click("#use-in-audience")
    wanted = "home_store_id IN STORES(format = 'pickup')"
    page.wait_for_url(re.compile(rf"{re.escape(base)}/console/audiences/new\?text=home_store_id"))
    sync_api.expect(page.locator("#expression")).to_have_value(wanted)
    sync_api.expect(size).to_have_attribute("data-size", str(api_count(page, wanted)))

    # The member 360's tags, and the catalogue in Chinese.
    page.goto(f"{base}/console/customers/{running.person}")
    section = page.locator("#person-tags")
    sync_api.expect(section.locator("[data-tag=lifecycle_stage] dd")).to_be_visible()
    sync_api.expect(section.locator("#person-tags-as-of")).to_have_attribute(
        "data-as-of", re.compile(r"^\d{4}-\d{2}-\d{2}$")
    )
    section.screenshot(path=str(ARTIFACTS / "console-person-tags.png"))
    page.goto(f"{base}/console/tags")
    page.click("#lang-switch")
    sync_api.expect(page.locator("h1")).to_have_text("标签目录")
    page.click("#lang-switch")
    assert_local(requests)


def test_a_tag_added_an_audience_edited_and_archived_and_the_glossary(
    running: Running, browser: Browser
) -> None:
    base = running.base
    requests: list[str] = []
    page = new_page(browser, requests)
    page.goto(f"{base}/console/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    # A user tag from the catalogue's form: listed, not computed until the next refresh.
    page.goto(f"{base}/console/tags")
    page.click("#add-tag summary")
    form = page.locator("#tag-form")
    form.locator("[name=id]").fill("coffee_regular")
    form.locator("[name=name_zh]").fill("咖啡常客")
    form.locator("[name=name_en]").fill("Coffee regular")
    form.locator("[name=value_type]").select_option("bool")
    form.locator("[name=definition]").fill("orders_90d >= 3")
    form.locator("[name=description_zh]").fill("近 90 天 3 单及以上。")
    form.locator("[name=description_en]").fill("Three or more orders in 90 days.")
    page.click("#tag-create")
    page.wait_for_url(f"{base}/console/tags/person/coffee_regular")
    sync_api.expect(page.locator("#not-computed")).to_be_visible()
    sync_api.expect(page.locator("#tag-definition")).to_have_text("orders_90d >= 3")
    page.goto(f"{base}/console/tags?q=coffee_regular")
    sync_api.expect(page.locator("#tags tr[data-tag=coffee_regular]")).to_contain_text("Not yet")

    # Edit a saved audience (PUT) and archive it.
    page.goto(f"{base}/console/audiences/new")
    made = api_post(page, "/api/v1/audiences", {"name": "To edit", "text": "consent_email"})
    page.goto(f"{base}/console/audiences/{made['id']}")
    sync_api.expect(page.locator("#count-size")).not_to_have_attribute("data-size", "")
    retype(page, "consent_email AND repeat_buyer")
    sync_api.expect(page.locator("#count-size")).to_have_attribute(
        "data-size", str(api_count(page, "consent_email AND repeat_buyer"))
    )
    page.fill("#audience-name", "Edited")
    page.click("#save-audience")
    page.wait_for_url(f"{base}/console/audiences/{made['id']}?done=saved")
    sync_api.expect(page.locator("#audience-title")).to_have_text("Edited")
    sync_api.expect(page.locator("#expression")).to_have_value("consent_email AND repeat_buyer")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#archive-audience")
    page.wait_for_url(f"{base}/console/audiences/{made['id']}?done=archived")
    sync_api.expect(page.locator("#archived")).to_be_visible()
    sync_api.expect(page.locator("#save-form")).to_have_count(0)

    # Each "?" beside a figure jumps to its definition on the same page.
    page.goto(f"{base}/console/audiences/new")
    page.click('#count a.def-link[href="#def-share"]')
    sync_api.expect(page.locator("#def-share")).to_contain_text("divided by all persons")
    page.goto(f"{base}/console/stores/select")
    page.click('a.def-link[href="#def-map"]')
    sync_api.expect(page.locator("#def-map")).to_contain_text("no tiles")
    assert_local(requests)
