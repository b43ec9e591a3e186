"""Inventory health and the supplier view through the real app on SQLite and PostgreSQL: a planner
reads every group, a store manager its own stores and no DC, a supplier's user its own materials only
and nothing of stores (403 everywhere else); bad input names its field."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.supply_health_lake import FIRST, LAST, write_chain
from tests.integration.test_api_app import NOW, Api, api_settings
from tests.integration.test_api_flashsales import problem

from newretail.api import create_app
from newretail.lake import Lake
from newretail.security import Principal, create_user, create_user_key

PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@dataclass
class Site:
    api: Api
    users: dict[str, dict[str, str]]

    def get(self, path: str, *, role: str, **params: Any) -> Any:
        return self.api.client.get(f"/api/v1{path}", params=params, headers=self.users[role])

    def ok(self, path: str, *, role: str, **params: Any) -> Any:
        response = self.get(path, role=role, **params)
        assert response.status_code == 200, response.text
        return response.json()


def supplier_user(api: Api, supplier_id: str) -> dict[str, str]:
    email = f"supplier-{secrets.token_hex(4)}@example.com"
    with api.engine.begin() as conn:
        create_user(
            conn,
            actor=Principal.cli(),
            email=email,
            role="supplier",
            supplier_id=supplier_id,
            password=secrets.token_urlsafe(16),
            now=NOW,
        )
        key = create_user_key(conn, actor=Principal.cli(), email=email, now=NOW)
    return {"Authorization": f"Bearer {key.key}"}


@pytest.fixture(scope="module")
def site(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    settings = api_settings(tmp_path_factory.mktemp("health") / "home", database_url)
    write_chain(Lake(settings.lake_dir))
    with TestClient(create_app(settings, flush_in_background=False)) as client:
        api = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, api.admin = api.user("admin")
        users = {
            "admin": api.admin,
            "planner": api.user("supply_planner")[1],
            "manager": api.user("store_manager", ("S1",))[1],
            "marketer": api.user("marketer")[1],
            "v1": supplier_user(api, "V1"),
            "v2": supplier_user(api, "V2"),
        }
        yield Site(api, users)


def test_a_planner_reads_health_by_store_with_the_chain_and_weeks(site: Site) -> None:
    body = site.ok("/supply/health", role="planner", group_by="store", **PERIOD)
    assert (body["first"], body["last"], body["currency"]) == (*PERIOD.values(), "CNY")
    assert [row["key"] for row in body["data"]] == ["S1", "S2"] and body["count"] == 2
    s1 = body["data"][0]
    assert (s1["in_stock_days"], s1["stock_days"]) == (26, 28)
    assert s1["in_stock_rate"] == pytest.approx(26 / 28)
    # 500 ml of milk (12 yuan a litre) and 250 ml expired, 30 ml of syrup (45 yuan / 750 ml) at prep.
    assert s1["waste_minor"] == {"expiry": 900, "prep": 180}
    assert sum(s1["aging_minor"].values()) > 0
    assert body["chain"]["products_listed"] == 6 and body["chain"]["products_sold"] == 5
    assert [w["key"] for w in body["weeks"]] == ["2026-03-02", "2026-03-09"]
    assert body["stores"] is None


def test_a_store_manager_sees_its_stores_and_no_dc(site: Site) -> None:
    body = site.ok("/supply/health", role="manager", group_by="store", **PERIOD)
    assert [row["key"] for row in body["data"]] == ["S1"] and body["stores"] == ["S1"]
    assert body["chain"]["stock_days"] == 28  # S1's own days only
    problem(
        site.get("/supply/health", role="manager", store="S2", **PERIOD), 403, "auth.store_denied"
    )
    problem(
        site.get("/supply/health", role="manager", group_by="dc", **PERIOD),
        403,
        "supply.dc_denied",
    )
    problem(site.get("/supply/health", role="marketer", **PERIOD), 403, "auth.permission_denied")


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"from": LAST.isoformat(), "to": FIRST.isoformat()}, "supply.bad_period", "from"),
        ({**PERIOD, "store": "S9"}, "supply.unknown_store", "stores"),
        ({**PERIOD, "group_by": "supplier"}, "request.invalid", "group_by"),
    ],
)
def test_bad_input_names_its_field(
    site: Site, params: dict[str, str], code: str, field: str
) -> None:
    response = site.get("/supply/health", role="planner", **params)
    problem(response, 422, code)
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_supplier_sees_its_own_materials_forecast_stock_and_deliveries(site: Site) -> None:
    body = site.ok("/supply/supplier", role="v1")
    assert body["supplier_id"] == "V1" and body["as_of"] == LAST.isoformat()
    assert [m["material_id"] for m in body["materials"]] == ["M1", "M3"]
    assert {s["material_id"] for s in body["dc_stock"]} == {"M1", "M3"}
    assert {s["dc_id"] for s in body["dc_stock"]} == {"W1"}
    forecast = body["forecast"]
    assert forecast["origin"] == LAST.isoformat()
    # Milk summed over S1 and S2 (2,000 + 1,200 on the first day); V2's cups are not shown.
    assert [(d["material_id"], d["mean_quantity"]) for d in forecast["days"]] == [
        ("M1", 3200.0),
        ("M1", 3202.0),
        ("M1", 3204.0),
    ]
    first = forecast["days"][0]
    assert first["lo80_quantity"] < 3200 < first["hi80_quantity"]
    deliveries = body["deliveries"]
    assert (deliveries["on_time"], deliveries["late"], deliveries["short"]) == (1, 2, 1)
    assert {line["po_id"]: line["status"] for line in deliveries["lines"]} == {
        "PO1": "on_time",
        "PO2": "late",
        "PO3": "short",
        "PO4": "late",
    }


def test_a_supplier_cannot_read_another_supplier_or_any_store(site: Site) -> None:
    problem(site.get("/supply/supplier", role="v1", supplier_id="V2"), 403, "auth.supplier_denied")
    for path in ("/supply/health", "/stores/S1/overview", "/supply/plans"):
        problem(site.get(path, role="v1", **PERIOD), 403, "auth.permission_denied")
    mine = site.ok("/supply/supplier", role="v2", supplier_id="V2")
    assert [m["material_id"] for m in mine["materials"]] == ["M2"]
    assert [d["po_id"] for d in mine["deliveries"]["lines"]] == ["PO6"]


def test_a_planner_names_the_supplier_and_a_store_manager_may_not_look(site: Site) -> None:
    problem(site.get("/supply/supplier", role="planner"), 422, "supply.supplier_required")
    problem(
        site.get("/supply/supplier", role="planner", supplier_id="V9"),
        404,
        "supply.unknown_supplier",
    )
    problem(
        site.get("/supply/supplier", role="manager", supplier_id="V1"),
        403,
        "auth.permission_denied",
    )


def test_an_admin_creates_a_supplier_user_only_with_its_supplier(site: Site) -> None:
    headers = {**site.users["admin"], "Idempotency-Key": secrets.token_hex(8)}
    body = {"email": f"v1-{secrets.token_hex(3)}@example.com", "role": "supplier"}
    response = site.api.client.post("/api/v1/users", json=body, headers=headers)
    problem(response, 422, "users.supplier_required")
    headers["Idempotency-Key"] = secrets.token_hex(8)
    made = site.api.client.post(
        "/api/v1/users", json={**body, "supplier_id": "V1"}, headers=headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["user"]["supplier_id"] == "V1"
    headers["Idempotency-Key"] = secrets.token_hex(8)
    staff = {"email": f"a-{secrets.token_hex(3)}@example.com", "role": "analyst"}
    response = site.api.client.post(
        "/api/v1/users", json={**staff, "supplier_id": "V1"}, headers=headers
    )
    problem(response, 422, "users.supplier_not_allowed")
