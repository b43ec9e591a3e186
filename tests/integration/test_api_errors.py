"""Bad input gets the right 4xx as problem+json with a stable code and the field path; nothing is
written."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from tests.integration.test_api_app import Api
from tests.integration.test_api_app import api as api
from tests.integration.test_api_app import database_url as database_url
from tests.integration.test_api_app import migrated_engine as migrated_engine

from newretail.oltp.tables import api_keys, users

PROBLEM = "application/problem+json"


def _rows(api: Api) -> tuple[int, int]:
    with api.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(users)).scalar_one(),
            conn.execute(select(func.count()).select_from(api_keys)).scalar_one(),
        )


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith(code)
    return body


def test_malformed_json_is_400(api: Api) -> None:
    before = _rows(api)
    response = api.client.post(
        "/api/v1/users",
        content=b'{"email": ',
        headers={**api.admin, "Content-Type": "application/json"},
    )
    _problem(response, 400, "request.malformed_json")
    assert _rows(api) == before


def test_unknown_and_mistyped_fields_name_their_path(api: Api) -> None:
    before = _rows(api)
    payload = {"email": "a@example.com", "role": "admin", "is_superuser": True}
    body = _problem(
        api.client.post("/api/v1/users", json=payload, headers=api.admin), 422, "request.invalid"
    )
    assert body["errors"][0]["field"] == "is_superuser"
    assert body["errors"][0]["type"] == "extra_forbidden"
    payload = {"email": "a@example.com", "role": "admin", "stores": [1, {"x": 2}]}
    body = _problem(
        api.client.post("/api/v1/users", json=payload, headers=api.admin), 422, "request.invalid"
    )
    assert [e["field"] for e in body["errors"]] == ["stores[0]", "stores[1]"]
    body = _problem(
        api.client.post(
            "/api/v1/users", json={"email": "a@example.com", "role": "owner"}, headers=api.admin
        ),
        422,
        "request.invalid",
    )
    assert body["errors"][0]["field"] == "role"
    body = _problem(
        api.client.post("/api/v1/keys", json={"kind": "write", "sourse": "app"}, headers=api.admin),
        422,
        "request.invalid",
    )
    assert body["errors"][0]["field"] == "sourse"
    assert _rows(api) == before


def test_domain_rules_answer_with_their_own_codes(api: Api) -> None:
    before = _rows(api)
    cases = [
        (
            "/api/v1/users",
            {"email": "not-an-address", "role": "analyst"},
            "users.bad_email",
            "email",
        ),
        (
            "/api/v1/users",
            {"email": "m@example.com", "role": "store_manager"},
            "users.scope_required",
            "stores",
        ),
        ("/api/v1/keys", {"kind": "user"}, "keys.email_required", "email"),
        (
            "/api/v1/keys",
            {"kind": "write", "source": "app", "email": "a@example.com"},
            "keys.email_not_allowed",
            "email",
        ),
        ("/api/v1/keys", {"kind": "write", "source": "fax"}, "keys.unknown_source", "source"),
        (
            "/api/v1/keys",
            {"kind": "user", "email": "nobody@example.com"},
            "users.not_found",
            "email",
        ),
        (
            "/api/v1/keys",
            {"kind": "write", "source": "app", "expires_at": "2020-01-01T00:00:00Z"},
            "keys.bad_expiry",
            "expires_at",
        ),
    ]
    for path, payload, code, field in cases:
        response = api.client.post(path, json=payload, headers=api.admin)
        body = response.json()
        assert body["code"] == code, (payload, body)
        assert body["errors"][0]["field"] == field
        assert response.status_code in (404, 422)
    duplicate = {"email": f"dup-{secrets.token_hex(4)}@example.com", "role": "analyst"}
    assert api.client.post("/api/v1/users", json=duplicate, headers=api.admin).status_code == 201
    _problem(
        api.client.post("/api/v1/users", json=duplicate, headers=api.admin),
        409,
        "users.duplicate_email",
    )
    assert _rows(api)[0] == before[0] + 1


def test_pagination_bounds_and_envelopes(api: Api) -> None:
    for query, field in [("limit=0", "limit"), ("limit=501", "limit"), ("offset=-1", "offset")]:
        body = _problem(
            api.client.get(f"/api/v1/audit?{query}", headers=api.admin), 422, "request.invalid"
        )
        assert body["errors"][0]["field"] == field
    _problem(
        api.client.get("/api/v1/audit?since=yesterday", headers=api.admin), 422, "request.invalid"
    )
    for _ in range(3):
        api.user("analyst")
    everything = api.client.get("/api/v1/users?limit=500", headers=api.admin).json()
    first = api.client.get("/api/v1/users?limit=2", headers=api.admin).json()
    rest = api.client.get("/api/v1/users?limit=500&offset=2", headers=api.admin).json()
    assert first["count"] == everything["count"] == len(everything["data"]) >= 4
    assert first["data"] + rest["data"] == everything["data"]
    audit = api.client.get("/api/v1/audit?action=user.created&limit=2", headers=api.admin).json()
    assert len(audit["data"]) == 2 and audit["count"] >= 4
    assert {e["action"] for e in audit["data"]} == {"user.created"}


def test_unknown_routes_and_methods_are_problems_too(api: Api) -> None:
    _problem(api.client.get("/api/v1/nothing", headers=api.admin), 404, "request.not_found")
    _problem(api.client.put("/api/v1/users", headers=api.admin), 405, "request.method_not_allowed")
