"""Flash sales in the console (TestClient, in-process engine): the list, the create form refusing
bad input and creating a draft, arming, the live page and its JSON with each figure defined, in
both languages, and who may see and do what."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.conftest import NOW, add_user, sign_in

from newretail.flashsale import GatePolicy, InProcessEngine, InProcessGate, Reservation

STARTS = (NOW - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def engine(app: FastAPI, tmp_path: Path) -> Iterator[InProcessEngine]:
    engine = InProcessEngine(tmp_path / "flashsale")
    app.state.flashsale = engine
    app.state.gate = InProcessGate(GatePolicy(), ticket_key=b"k" * 32)
    yield engine
    engine.close()


def create(client: TestClient, token: str, **change: object) -> tuple[int, str, str]:
    form: dict[str, object] = {
        "csrf_token": token,
        "name": "Double 11 gift box",
        "sale_id": "fs-console",
        "starts_at": STARTS,
        "minutes": "120",
        "per_person_limit": "1",
        "payment_window_seconds": "600",
        "channels": ["app", "mini_program"],
        "eligibility": "list",
        "person_ids": "P1\nP2, P3",
        "currency": "CNY",
        "sku": ["SKU-A", "SKU-B", ""],
        "stock": ["10", "3", ""],
        "price": ["9.90", "129", ""],
        **change,
    }
    answer = client.post("/console/flashsales/new", data=form)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def test_a_marketer_creates_arms_and_watches_a_sale(
    client: TestClient, oltp: Engine, engine: InProcessEngine
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    token = sign_in(client, "mk@example.com")
    empty = client.get("/console/flashsales")
    assert 'id="no-sales"' in empty.text and 'id="new-sale"' in empty.text
    form = client.get("/console/flashsales/new")
    assert form.status_code == 200 and 'name="starts_at"' in form.text

    status, location, _ = create(client, token)
    assert (status, location) == (303, "/console/flashsales/fs-console?done=created")
    page = client.get(location)
    assert 'id="arm"' in page.text and 'id="not-armed"' in page.text
    armed = client.post("/console/flashsales/fs-console/arm", data={"csrf_token": token})
    assert armed.headers["location"] == "/console/flashsales/fs-console?done=armed"

    for person in ("P1", "P2", "P9"):
        engine.reserve(
            "fs-console", sku="SKU-A", person_id=person, quantity=1, request_key="k", now=NOW
        )
    live = client.get("/console/flashsales/fs-console/live.json").json()
    assert live["phase"] == "open" and live["reservations"] == 2
    assert live["items"][0] == {
        "sku": "SKU-A",
        "stock": 10,
        "remaining": 8,
        "reserved": 2,
        "paid": 0,
        "expired": 0,
    }
    assert live["items"][1]["stock"] == 3 and live["backlog"] == 2
    assert live["rejections"] == {"flashsale.ineligible": 1}
    assert live["orders"] == {"reserved": 0, "paid": 0, "expired": 0, "total": 0}

    page = client.get("/console/flashsales/fs-console")
    assert 'id="close"' in page.text and 'data-phase="open"' in page.text
    for key in (
        "remaining",
        "reservations_rate",
        "orders_rate",
        "backlog",
        "waiting",
        "rejections",
    ):
        assert f'id="def-{key}"' in page.text and f'href="#def-{key}"' in page.text
    assert "Not eligible" in page.text or "不在可购人群" in page.text
    listed = client.get("/console/flashsales")
    assert 'data-sale="fs-console"' in listed.text and ">11<" in listed.text  # units left


def test_the_form_refuses_what_it_cannot_read_and_keeps_what_was_typed(
    client: TestClient, oltp: Engine, engine: InProcessEngine
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    token = sign_in(client, "mk@example.com")
    status, _, text = create(client, token, price=["9.999", "", ""], sku=["SKU-A", "", ""])
    assert status == 422
    assert 'data-field="items"' in text and 'value="Double 11 gift box"' in text
    status, _, text = create(client, token, minutes="soon")
    assert status == 422 and 'data-field="minutes"' in text
    status, _, text = create(client, token, person_ids="ok\nnot|ok")
    assert status == 422 and 'data-code="flashsale.bad_request"' in text
    status, _, _ = create(client, token)
    assert status == 303
    status, _, text = create(client, token)
    assert status == 422 and 'data-code="flashsale.duplicate_sale"' in text


def test_roles_and_languages(client: TestClient, oltp: Engine, engine: InProcessEngine) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    add_user(oltp, "ana@example.com", "analyst")
    add_user(oltp, "shop@example.com", "store_manager", stores=("S001",))
    token = sign_in(client, "mk@example.com")
    assert create(client, token)[0] == 303
    client.post("/console/logout", data={"csrf_token": token})

    token = sign_in(client, "ana@example.com")
    page = client.get("/console/flashsales/fs-console")
    assert page.status_code == 200 and 'id="arm"' not in page.text
    assert client.get("/console/flashsales/new").status_code == 403
    refused = client.post("/console/flashsales/fs-console/arm", data={"csrf_token": token})
    assert refused.status_code == 403
    client.cookies.set("newretail_lang", "en")
    english = client.get("/console/flashsales/fs-console").text
    client.cookies.set("newretail_lang", "zh-CN")
    chinese = client.get("/console/flashsales/fs-console").text
    assert "Orders per second" in english and "每秒订单数" in chinese
    assert client.get("/console/flashsales/fs-none").status_code == 404
    client.post("/console/logout", data={"csrf_token": token})

    sign_in(client, "shop@example.com")
    assert client.get("/console/flashsales").status_code == 403
    assert client.get("/console/flashsales/fs-console/live.json").status_code == 403
    assert re.search(r'data-nav="flashsales"[^>]*href', client.get("/console/").text) is None


def test_a_sale_open_to_everyone_counts_what_the_engine_holds(
    client: TestClient, oltp: Engine, engine: InProcessEngine
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    token = sign_in(client, "mk@example.com")
    create(client, token, eligibility="everyone", person_ids="")
    client.post("/console/flashsales/fs-console/arm", data={"csrf_token": token})
    made = engine.reserve(
        "fs-console", sku="SKU-B", person_id="anyone", quantity=1, request_key="k", now=NOW
    )
    assert isinstance(made, Reservation)
    live = client.get("/console/flashsales/fs-console/live.json").json()
    assert [i["remaining"] for i in live["items"]] == [10, 2]
