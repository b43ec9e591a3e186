"""The supply alert API through the real app on SQLite and PostgreSQL: a store manager lists and
acknowledges only their stores' alerts, a planner all of them, with filters; acknowledging takes an
Idempotency-Key and replays; planners add, list and deactivate webhooks, the signing secret shown
once and stored only encrypted."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from tests.integration.databases import database_url as database_url
from tests.integration.databases import dump
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_flashsales import problem

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.oltp.supply_alert_tables import (
    supply_alert_deliveries,
    supply_alerts,
    supply_webhooks,
)
from newretail.supply.alerts import Alert, save_alerts

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 3, 10)


@pytest.fixture
def api(migrated_engine: Engine, database_url: str, isolated_home: Path) -> Iterator[Api]:
    with migrated_engine.begin() as conn:
        for table in (supply_alert_deliveries, supply_alerts, supply_webhooks):
            conn.execute(delete(table))
    app = create_app(api_settings(isolated_home, database_url), flush_in_background=False)
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app) as client:
        yield Api(
            client=client,
            engine=migrated_engine,
            settings=api_settings(isolated_home, database_url),
            admin={},
        )


def keyed() -> dict[str, str]:
    return {"Idempotency-Key": secrets.token_hex(8)}


def test_alerts_are_listed_and_acknowledged_within_the_callers_stores(api: Api) -> None:
    with api.engine.begin() as conn:
        save_alerts(
            conn,
            [
                Alert("stockout", "critical", "store", "S1", "M1", AS_OF, {"cover_days": 0}),
                Alert("stockout", "high", "store", "S2", "M1", AS_OF, {"cover_days": 1}),
                Alert("late_delivery", "high", "warehouse", "W1", "M2", AS_OF, {"days_late": 1}),
            ],
            now=NOW,
        )
    _, planner = api.user("supply_planner")
    _, manager = api.user("store_manager", stores=("S1",))
    _, analyst = api.user("analyst")
    _, marketer = api.user("marketer")
    get = api.client.get

    mine = get("/api/v1/supply/alerts", headers=manager).json()
    assert [a["location_id"] for a in mine["data"]] == ["S1"] and mine["count"] == 1
    s1 = mine["data"][0]
    assert s1["key"] == "stockout/store/S1/M1/2026-03-10"
    assert s1["route"] == {"roles": ["store_manager", "supply_planner"], "store_id": "S1"}
    assert (s1["status"], s1["numbers"]) == ("open", {"cover_days": 0})
    every = get("/api/v1/supply/alerts", headers=planner).json()
    assert [a["location_id"] for a in every["data"]] == ["S1", "S2", "W1"]
    ids = {a["location_id"]: a["id"] for a in every["data"]}
    assert (
        get("/api/v1/supply/alerts", params={"kind": "stockout"}, headers=analyst).json()["count"]
        == 2
    )
    by_place = get(
        "/api/v1/supply/alerts", params={"location_id": "W1", "status": "open"}, headers=planner
    )
    assert [a["kind"] for a in by_place.json()["data"]] == ["late_delivery"]
    assert (
        get("/api/v1/supply/alerts", params={"kind": "flood"}, headers=planner).status_code == 422
    )
    problem(get("/api/v1/supply/alerts", headers=marketer), 403, "auth.permission_denied")
    problem(get(f"/api/v1/supply/alerts/{ids['W1']}", headers=manager), 403, "auth.store_denied")
    problem(get("/api/v1/supply/alerts/999999", headers=planner), 404, "supply.alert_not_found")

    ack = f"/api/v1/supply/alerts/{ids['S1']}/acknowledge"
    problem(api.client.post(ack, headers=manager), 422, "idempotency.key_required")
    key = keyed()
    first = api.client.post(ack, headers={**manager, **key})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "acknowledged"
    assert first.json()["acknowledged_by"].startswith("user:")
    replay = api.client.post(ack, headers={**manager, **key})
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    for refused, who in ((ids["S2"], manager), (ids["W1"], manager), (ids["W1"], analyst)):
        answer = api.client.post(
            f"/api/v1/supply/alerts/{refused}/acknowledge", headers={**who, **keyed()}
        )
        assert answer.status_code == 403, answer.text
    done = api.client.post(
        f"/api/v1/supply/alerts/{ids['W1']}/acknowledge", headers={**planner, **keyed()}
    )
    assert done.json()["status"] == "acknowledged"
    acknowledged = get("/api/v1/supply/alerts", params={"status": "acknowledged"}, headers=planner)
    assert acknowledged.json()["count"] == 2
    assert api.audit_count("supply.alert_acknowledged") == 2  # the replay acted once


def test_planners_manage_webhooks_and_the_secret_is_shown_once(api: Api) -> None:
    _, planner = api.user("supply_planner")
    _, manager = api.user("store_manager", stores=("S1",))
    problem(
        api.client.get("/api/v1/supply/webhooks", headers=manager), 403, "auth.permission_denied"
    )
    bad = api.client.post(
        "/api/v1/supply/webhooks",
        json={"url": "ftp://files.example.com/x"},
        headers={**planner, **keyed()},
    )
    problem(bad, 422, "supply.bad_webhook_url")
    body = {"url": "https://ops.example.com/hooks/supply", "description": "on-call"}
    key = keyed()
    made = api.client.post("/api/v1/supply/webhooks", json=body, headers={**planner, **key})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert len(secret) >= 40
    again = api.client.post("/api/v1/supply/webhooks", json=body, headers={**planner, **key})
    assert again.json() == made.json()
    listed = api.client.get("/api/v1/supply/webhooks", headers=planner).json()
    assert listed["count"] == 1 and "secret" not in listed["data"][0]
    assert secret not in dump(api.engine)
    hook_id = made.json()["id"]
    off = api.client.post(
        f"/api/v1/supply/webhooks/{hook_id}/deactivate", headers={**planner, **keyed()}
    )
    assert off.status_code == 200, off.text
    assert (off.json()["active"], off.json()["deactivated_by"]) == (
        False,
        made.json()["created_by"],
    )
