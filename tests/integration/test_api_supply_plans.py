"""The replenishment API through the real app on SQLite and PostgreSQL: plans, their lines with
explanations (filtered, paged), approvals by line and by location that become purchase orders once,
edits and rejections with their stable codes, store managers limited to their stores and to reading,
and Idempotency-Key replays that act once."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.supply_plan_setup import NAMES, NOW, small_draft
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_flashsales import problem

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.oltp.supply_tables import supply_purchase_order_lines
from newretail.supply.replenish.plans import save_plan

_days = itertools.count()


@dataclass
class Desk:
    """A running app on the module's database with bearer headers per role."""

    api: Api
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:
        return self.api.client

    def plan(self) -> int:
        """A new small plan (S1, S2, W1) on a day of its own."""
        origin = dt.date(2026, 6, 1) + dt.timedelta(days=next(_days))
        with self.api.engine.begin() as conn:
            return save_plan(conn, small_draft(origin), now=NOW, material_names=NAMES).id

    def get(self, path: str, *, role: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/supply{path}", params=params, headers=self.users[role])

    def post(self, path: str, body: Any, *, role: str, key: str | None = None) -> Any:
        headers = {**self.users[role]}
        if key != "":
            headers["Idempotency-Key"] = key or secrets.token_hex(8)
        return self.client.post(f"/api/v1/supply{path}", json=body, headers=headers)

    def lines(self, plan_id: int, role: str = "planner", **params: Any) -> dict[str, Any]:
        answer = self.get(f"/plans/{plan_id}/lines", role=role, **params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def line_id(self, plan_id: int, location: str, material: str) -> int:
        found = self.lines(plan_id, location_id=location)["data"]
        return int(next(x["id"] for x in found if x["material_id"] == material))

    def ordered(self) -> int:
        with self.api.engine.connect() as conn:
            query = select(func.count()).select_from(supply_purchase_order_lines)
            return int(conn.execute(query).scalar_one())


@pytest.fixture(scope="module")
def desk(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    settings = api_settings(tmp_path_factory.mktemp("supply") / "home", database_url)
    app = create_app(settings, flush_in_background=False)
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app) as client:
        api = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        found = Desk(api=api)
        for role in ("supply_planner", "analyst", "marketer"):
            found.users[role.removeprefix("supply_")] = api.user(role)[1]
        found.users["manager"] = api.user("store_manager", ("S1",))[1]
        yield found


def test_plans_and_their_lines_read_with_filters_and_pages(desk: Desk) -> None:
    plan_id = desk.plan()
    listed = desk.get("/plans", role="analyst", limit=1)
    assert listed.status_code == 200
    assert listed.json()["count"] >= 1 and listed.json()["data"][0]["id"] == plan_id

    summary = desk.get(f"/plans/{plan_id}", role="analyst").json()
    assert (summary["service_level"], summary["lines"], summary["order_lines"]) == (0.98, 5, 4)
    # 2×¥90 + 3×¥96 + 1×¥90 + 0 + 5×¥90 at S1, S2 and W1.
    assert summary["totals"]["packs"] == 11
    assert summary["totals"]["cost_minor"] == {"CNY": 18_000 + 28_800 + 9_000 + 45_000}

    first = desk.lines(plan_id, limit=2, offset=0)
    rest = desk.lines(plan_id, limit=2, offset=2)
    assert first["count"] == rest["count"] == 5
    keys = [(x["location_id"], x["material_id"]) for x in first["data"] + rest["data"]]
    assert keys == [("S1", "M001"), ("S1", "M016"), ("S2", "M001"), ("S2", "M016")]
    beans = first["data"][0]
    assert beans["material_name"] == "咖啡豆 Espresso beans"
    assert (beans["packs"], beans["quantity"], beans["cost_minor"]) == (2, 2000, 18_000)
    assert beans["explanation"]["forecast"] == pytest.approx(1234.568)
    assert beans["explanation"]["position"] == 500
    assert beans["explanation"]["reason"] == "rounded_up"

    dcs = desk.lines(plan_id, location_type="warehouse")
    assert [x["location_id"] for x in dcs["data"]] == ["W1"]
    assert desk.lines(plan_id, status="approved")["count"] == 0
    problem(
        desk.get(f"/plans/{plan_id}/lines", role="planner", status="done"), 422, "request.invalid"
    )
    problem(desk.get("/plans/999999", role="planner"), 404, "supply.plan_unknown")
    problem(desk.get("/plans", role="marketer"), 403, "auth.permission_denied")


def test_store_managers_read_their_stores_and_decide_nothing(desk: Desk) -> None:
    plan_id = desk.plan()
    mine = desk.lines(plan_id, role="manager")
    assert mine["count"] == 2 and {x["location_id"] for x in mine["data"]} == {"S1"}
    summary = desk.get(f"/plans/{plan_id}", role="manager").json()
    assert summary["totals"]["packs"] == 5
    problem(
        desk.get(f"/plans/{plan_id}/lines", role="manager", location_id="S2"),
        403,
        "auth.store_denied",
    )
    problem(
        desk.get(f"/plans/{plan_id}/lines", role="manager", location_type="warehouse"),
        403,
        "auth.store_denied",
    )
    body = {"location_type": "store", "location_id": "S1"}
    problem(
        desk.post(f"/plans/{plan_id}/approve", body, role="manager"), 403, "auth.permission_denied"
    )

    desk.post(f"/plans/{plan_id}/approve", {"line_ids": _all(desk, plan_id)}, role="planner")
    orders = desk.get("/purchase-orders", role="manager", plan_id=plan_id).json()
    assert orders["count"] == 1 and orders["data"][0]["location_id"] == "S1"
    assert orders["data"][0]["cost_minor"] == {"CNY": 46_800}
    every = desk.get("/purchase-orders", role="analyst", plan_id=plan_id).json()
    assert every["count"] == 3


def test_approving_a_store_orders_its_lines_once_and_replays(desk: Desk) -> None:
    plan_id = desk.plan()
    before, audited = desk.ordered(), desk.api.audit_count("supply.lines_approved")
    body = {"location_type": "store", "location_id": "S1"}
    key = secrets.token_hex(8)
    done = desk.post(f"/plans/{plan_id}/approve", body, role="planner", key=key)
    assert done.status_code == 200, done.text
    assert len(done.json()["approved"]) == 2 and len(done.json()["purchase_orders"]) == 1
    replay = desk.post(f"/plans/{plan_id}/approve", body, role="planner", key=key)
    assert replay.json() == done.json() and replay.headers["Idempotent-Replayed"] == "true"
    # A new key approves again: nothing is pending, nothing more is ordered.
    again = desk.post(f"/plans/{plan_id}/approve", body, role="planner")
    assert again.json()["approved"] == [] and again.json()["purchase_orders"] == []
    assert desk.ordered() == before + 2
    assert desk.api.audit_count("supply.lines_approved") == audited + 1
    statuses = {
        x["material_id"]: x["status"] for x in desk.lines(plan_id, location_id="S1")["data"]
    }
    assert statuses == {"M001": "approved", "M016": "approved"}

    other = {"location_type": "store", "location_id": "S2"}
    problem(
        desk.post(f"/plans/{plan_id}/approve", other, role="planner", key=key),
        409,
        "idempotency.key_reused",
    )
    problem(
        desk.post(f"/plans/{plan_id}/approve", other, role="planner", key=""),
        422,
        "idempotency.key_required",
    )
    both = {"line_ids": [1], **other}
    problem(desk.post(f"/plans/{plan_id}/approve", both, role="planner"), 422, "request.invalid")
    unknown = {"location_type": "store", "location_id": "S9"}
    problem(
        desk.post(f"/plans/{plan_id}/approve", unknown, role="planner"),
        404,
        "supply.location_unknown",
    )
    assert desk.ordered() == before + 2


def test_edits_and_rejections_with_their_codes(desk: Desk) -> None:
    plan_id = desk.plan()
    beans = desk.line_id(plan_id, "S2", "M001")
    croissants = desk.line_id(plan_id, "S2", "M016")
    path = f"/plans/{plan_id}/lines"
    bad = desk.post(f"{path}/{croissants}/edit", {"packs": -2, "reason": "x"}, role="planner")
    problem(bad, 422, "supply.bad_packs")
    problem(
        desk.post(f"{path}/{croissants}/edit", {"packs": 2, "reason": ""}, role="planner"),
        422,
        "supply.reason_required",
    )
    key = secrets.token_hex(8)
    edited = desk.post(
        f"{path}/{croissants}/edit", {"packs": 2, "reason": "market day"}, role="planner", key=key
    )
    assert edited.status_code == 200, edited.text
    line = edited.json()
    assert (line["status"], line["packs"], line["proposed_packs"], line["quantity"]) == (
        "edited",
        2,
        0,
        48,
    )
    assert line["edit_reason"] == "market day" and line["edited_by"].startswith("user:")
    replay = desk.post(
        f"{path}/{croissants}/edit", {"packs": 2, "reason": "market day"}, role="planner", key=key
    )
    assert replay.json() == line and replay.headers["Idempotent-Replayed"] == "true"

    rejected = desk.post(f"{path}/{beans}/reject", {"reason": "store closed"}, role="planner")
    assert (
        rejected.json()["status"] == "rejected"
        and rejected.json()["reject_reason"] == "store closed"
    )

    approved = desk.post(f"/plans/{plan_id}/approve", {"line_ids": [croissants]}, role="planner")
    assert approved.json()["approved"] == [croissants]
    problem(
        desk.post(f"{path}/{croissants}/edit", {"packs": 5, "reason": "more"}, role="planner"),
        409,
        "supply.line_ordered",
    )
    problem(
        desk.post(f"{path}/{croissants}/reject", {}, role="planner"), 409, "supply.line_ordered"
    )
    problem(desk.post(f"{path}/999999/reject", {}, role="planner"), 404, "supply.line_unknown")
    problem(desk.post(f"{path}/{beans}/reject", {}, role="analyst"), 403, "auth.permission_denied")
    orders = desk.get("/purchase-orders", role="planner", plan_id=plan_id).json()["data"]
    assert [
        (x["material_id"], x["packs"], x["cost_minor"]) for o in orders for x in o["lines"]
    ] == [("M016", 2, 19_200)]


def _all(desk: Desk, plan_id: int) -> list[int]:
    return [int(x["id"]) for x in desk.lines(plan_id, limit=100)["data"]]
