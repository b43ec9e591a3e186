"""The tag and audience pages of the console over a generated, tagged chain (the real app, in
process, signed in through the login form): every page in both languages with its glossary, the
catalogue's coverage and a tag's distribution equal to the API's, saved audiences with their size,
the builder's embedded state, store selection, the member 360's tags (``person_tags`` against the
ADS table), and who may see what."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from tests.integration.audience_home import NOW, audience_template, copy_home

from newretail.api import create_app
from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings
from newretail.security import Principal, create_user
from newretail.tags.compute import latest_refresh
from newretail.tags.values import person_tags
from newretail.web.tag_view import value_label

pytestmark = pytest.mark.slow
__all__ = ["audience_template"]

PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
ROLES = ("marketer", "analyst", "supply_planner", "store_manager")
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@dataclass
class Console:
    home: Path
    client: TestClient
    clients: dict[str, TestClient]
    person: str  # a person with a lifecycle stage
    audience: str  # a saved audience's id
    size: int  # its size

    def get(self, role: str, path: str, **headers: str) -> Any:
        return self.clients[role].get(path, headers=headers or EN)


def sign_in(client: TestClient, email: str) -> str:
    """Sign in through the form; the session's CSRF token (from the page's meta or form)."""
    form = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").text)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def console(audience_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    home = copy_home(audience_template, tmp_path_factory.mktemp("console") / "home")
    settings = Settings(home=home)
    database = engine_from_settings(settings)
    with database.begin() as conn:
        for role in ROLES:
            create_user(
                conn,
                actor=Principal.cli(),
                email=f"{role}@example.com",
                role=role,
                stores=("S0001",) if role == "store_manager" else (),
                password=PASSWORD,
                now=NOW,
            )
    database.dispose()
    refresh = latest_refresh(Lake(settings.lake_dir), "person")
    assert refresh is not None
    stages = pq.read_table(refresh.path, columns=["person_id", "lifecycle_stage"])
    person = next(
        row["person_id"] for row in stages.to_pylist() if row["lifecycle_stage"] is not None
    )
    app = create_app(settings, flush_in_background=False)
    with TestClient(app, follow_redirects=False) as client:
        # One client runs the app's lifespan; the others share the app, each with its cookies.
        clients = {role: TestClient(app, follow_redirects=False) for role in ROLES}
        token = sign_in(clients["marketer"], "marketer@example.com")
        for role in ROLES[1:]:
            sign_in(clients[role], f"{role}@example.com")
        saved = clients["marketer"].post(
            "/api/v1/audiences",
            json={
                "name": "Lapsing with SMS",
                "text": "lifecycle_stage = 'lapsing' AND consent_sms",
            },
            headers={"X-CSRF-Token": token, "Idempotency-Key": secrets.token_hex(8)},
        )
        assert saved.status_code == 201, saved.text
        yield Console(
            home=home,
            client=client,
            clients=clients,
            person=person,
            audience=saved.json()["id"],
            size=saved.json()["size"],
        )


PAGES = (
    "/console/tags",
    "/console/tags?entity=store",
    "/console/tags/person/lifecycle_stage",
    "/console/tags/person/orders_total",
    "/console/tags/store/format",
    "/console/audiences",
    "/console/audiences/new",
    "/console/audiences/{audience}",
    "/console/stores/select",
)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("headers", "nav"), [(EN, "Tag catalogue"), (ZH, "标签目录")])
def test_every_page_renders_in_both_languages_with_its_glossary(
    console: Console, path: str, headers: dict[str, str], nav: str
) -> None:
    page = console.get("marketer", path.format(audience=console.audience), **headers)
    assert page.status_code == 200, page.text
    assert f'<html lang="{headers["accept-language"]}">' in page.text
    assert nav in page.text
    assert 'id="definitions"' in page.text
    # Every "?" link points at a definition on the same page.
    targets = set(re.findall(r'class="def-link" href="#def-([a-z_]+)"', page.text))
    defined = set(re.findall(r'class="definition" id="def-([a-z_]+)"', page.text))
    assert targets and targets <= defined


@pytest.mark.parametrize("path", [*PAGES, "/console/customers/{person}/tags"])
def test_pages_need_a_session_and_audiences_read(console: Console, path: str) -> None:
    url = path.format(audience=console.audience, person=console.person)
    assert console.client.get(url).headers["location"] == "/console/login"
    assert console.get("supply_planner", url).status_code == 403
    assert console.get("store_manager", url).status_code == 403
    assert console.get("analyst", url).status_code == 200


def test_the_catalogue_shows_the_apis_coverage_and_filters(console: Console) -> None:
    api = console.get("marketer", "/api/v1/tags?category=lifecycle&limit=500").json()
    page = console.get("marketer", "/console/tags?category=lifecycle").text
    rows = dict(re.findall(r'<tr data-tag="([a-z0-9_]+)">.*?data-coverage="([0-9.]+)"', page, re.S))
    assert set(rows) == {tag["id"] for tag in api["data"] if tag["computed"]}
    for tag in api["data"]:
        if tag["computed"]:
            assert float(rows[tag["id"]]) == pytest.approx(tag["coverage"], abs=5e-5)
    assert f"as of {api['as_of']}" in page
    searched = console.get("marketer", "/console/tags?q=channel").text
    assert 'data-tag="favourite_channel"' in searched
    assert 'data-tag="lifecycle_stage"' not in searched
    stores = console.get("marketer", "/console/tags?entity=store").text
    assert 'data-tag="format"' in stores and 'data-tag="gender"' not in stores


def test_a_tag_page_has_its_definition_and_the_apis_distribution(console: Console) -> None:
    api = console.get("marketer", "/api/v1/tags/person/lifecycle_stage").json()
    page = console.get("marketer", "/console/tags/person/lifecycle_stage").text
    assert str(escape(api["definition"].splitlines()[0])) in page
    data = json.loads(_script(page, "tag-data"))
    assert data["kind"] == "bars"
    assert data["counts"] == list(api["distribution"]["counts"].values())
    assert "Lapsing" in data["labels"]
    number = console.get("marketer", "/console/tags/person/orders_total").text
    assert json.loads(_script(number, "tag-data"))["kind"] == "histogram"
    assert 'id="quantiles"' in number
    assert console.get("marketer", "/console/tags/person/no_such_tag").status_code == 404
    assert console.get("marketer", "/console/tags/store/lifecycle_stage").status_code == 404


def test_saved_audiences_list_and_page(console: Console) -> None:
    listing = console.get("marketer", "/console/audiences").text
    row = re.search(rf'<tr data-audience="{console.audience}">(.*?)</tr>', listing, re.S)
    assert row and f'data-size="{console.size}"' in row.group(1)
    assert 'class="spark"' in row.group(1) and 'data-points="1"' in row.group(1)
    page = console.get("marketer", f"/console/audiences/{console.audience}").text
    assert "Lapsing with SMS" in page and 'id="save-form"' in page and 'id="export-form"' in page
    assert 'id="sizes-chart"' in page and 'data-points="1"' in page
    state = json.loads(_script(page, "builder-state"))
    assert state["audience"]["id"] == console.audience
    assert [p["size"] for p in state["sizes"]] == [console.size]
    analyst = console.get("analyst", f"/console/audiences/{console.audience}").text
    assert 'id="save-form"' not in analyst and "readonly" in analyst
    assert console.get("marketer", "/console/audiences/aud_nothing").status_code == 404


def test_the_builder_embeds_the_picker_and_the_breakdown_tags(console: Console) -> None:
    text = "home_store_id IN STORES(format = 'pickup')"
    page = console.get("marketer", f"/console/audiences/new?text={text}").text
    assert f">{escape(text)}</textarea>" in page
    state = json.loads(_script(page, "builder-state"))
    tags = {tag["id"]: tag for tag in state["tags"]}
    assert ["lapsing", "Lapsing"] in tags["lifecycle_stage"]["values"]
    assert tags["orders_total"]["type"] == "number" and tags["orders_total"]["values"] == []
    assert [part["tag"] for part in state["breakdown"]] == [
        "home_city",
        "favourite_channel",
        "lifecycle_stage",
    ]
    assert state["breakdown"][1]["labels"]["mini_program"] == "Mini-program"
    assert [o["id"] for o in state["overlap"]] == [console.audience]
    zh = json.loads(
        _script(console.get("marketer", "/console/audiences/new", **ZH).text, "builder-state")
    )
    assert {tag["id"]: tag for tag in zh["tags"]}["lifecycle_stage"]["name"] == "生命周期阶段"


def test_store_selection_embeds_every_store(console: Console) -> None:
    page = console.get("marketer", "/console/stores/select").text
    state = json.loads(_script(page, "builder-state"))
    universe = console.get("marketer", "/api/v1/tags/store/format").json()["distribution"]["count"]
    assert len(state["stores"]) == universe > 0
    assert all(s["lon"] is not None and s["lat"] is not None for s in state["stores"])
    assert set(state["formats"]) <= {"flagship", "standard", "pickup", "delivery_kitchen"}
    assert re.search(r'data-entity="store"[^>]*>city = &#39;[^<]+&#39;</textarea>', page)


def test_the_member_360_loads_its_tags(console: Console) -> None:
    person = console.get("marketer", f"/console/customers/{console.person}").text
    assert f'hx-get="/console/customers/{console.person}/tags"' in person
    assert 'id="def-tags"' in person
    section = console.get("marketer", f"/console/customers/{console.person}/tags").text
    found = person_tags(Lake(console.home / "lake"), console.person)
    assert found is not None
    as_of, values = found
    assert f'data-as-of="{as_of.isoformat()}"' in section
    spec, stage = next((s, v) for s, v in values if s.id == "lifecycle_stage")
    shown = re.search(r'data-tag="lifecycle_stage">.*?<dd>([^<]+)</dd>', section, re.S)
    assert shown and shown.group(1) == value_label("en", spec, stage) != stage
    zh = console.get("marketer", f"/console/customers/{console.person}/tags", **ZH).text
    assert "生命周期" in zh
    manager = console.get("store_manager", f"/console/customers/{console.person}").text
    assert f'hx-get="/console/customers/{console.person}/tags"' not in manager


def test_person_tags_reads_the_persons_row_of_the_latest_refresh(console: Console) -> None:
    lake = Lake(console.home / "lake")
    refresh = latest_refresh(lake, "person")
    assert refresh is not None
    found = person_tags(lake, console.person)
    assert found is not None
    as_of, values = found
    assert as_of == refresh.as_of
    table = pq.read_table(refresh.path)
    row = next(r for r in table.to_pylist() if r["person_id"] == console.person)
    assert {spec.id: value for spec, value in values} == {tag: row[tag] for tag in refresh.tag_ids}
    assert isinstance({s.id: v for s, v in values}["first_seen_date"], dt.date | None)
    assert person_tags(lake, "nobody-at-all") == (refresh.as_of, [])


def _script(page: str, element: str) -> str:
    found = re.search(rf'<script id="{element}" type="application/json">(.*?)</script>', page, re.S)
    assert found, f"no {element} on the page"
    return found.group(1)
