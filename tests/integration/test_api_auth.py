"""Who may call what: bearer keys, session cookies with CSRF, roles, and store scope."""

from __future__ import annotations

import datetime as dt
import secrets

from tests.integration.test_api_app import NOW, Api
from tests.integration.test_api_app import api as api
from tests.integration.test_api_app import database_url as database_url
from tests.integration.test_api_app import migrated_engine as migrated_engine
from tests.unit.web.chain import Order, write_chain

from newretail.api.deps import get_now
from newretail.security import Principal, SessionPolicy, create_user, create_user_key, login

PROBLEM = "application/problem+json"


def test_no_key_is_401_with_a_challenge(api: Api) -> None:
    response = api.client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "auth.missing_credentials"


def test_wrong_revoked_and_expired_keys_are_401(api: Api) -> None:
    wrong = {"Authorization": "Bearer nru_000000000000_nope"}
    assert api.client.get("/api/v1/me", headers=wrong).json()["code"] == "auth.invalid_key"
    email, headers = api.user("analyst")
    prefix = headers["Authorization"].split("_")[1]
    assert api.client.delete(f"/api/v1/keys/{prefix}", headers=api.admin).status_code == 204
    assert api.client.get("/api/v1/me", headers=headers).json()["code"] == "auth.key_revoked"
    with api.engine.begin() as conn:
        soon = create_user_key(
            conn, actor=Principal.cli(), email=email, now=NOW, expires_at=NOW + dt.timedelta(1)
        )
    expiring = {"Authorization": f"Bearer {soon.key}"}
    assert api.client.get("/api/v1/me", headers=expiring).status_code == 200
    api.client.app.dependency_overrides[get_now] = lambda: NOW + dt.timedelta(days=2)  # type: ignore[attr-defined]
    response = api.client.get("/api/v1/me", headers=expiring)
    assert (response.status_code, response.json()["code"]) == (401, "auth.key_expired")


def test_a_write_key_is_no_user_key_and_the_reverse(api: Api) -> None:
    write_key, _ = api.write_key()
    response = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {write_key}"})
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_key")
    user_key = api.admin["Authorization"].removeprefix("Bearer ")
    body = {"userId": "u1", "event": "Viewed"}
    response = api.client.post("/v1/track", json=body, auth=(user_key, ""))
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_key")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_me_names_the_role_and_its_permissions(api: Api) -> None:
    _, headers = api.user("store_manager", stores=("SH01",))
    me = api.client.get("/api/v1/me", headers=headers).json()
    assert (me["role"], me["stores"]) == ("store_manager", ["SH01"])
    assert "customers.read" in me["permissions"] and "users.manage" not in me["permissions"]


def test_a_role_without_the_permission_is_403_and_writes_nothing(api: Api) -> None:
    _, headers = api.user("analyst")
    for method, path in [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/keys"),
        ("GET", "/api/v1/audit"),
    ]:
        response = api.client.request(method, path, headers=headers)
        assert (response.status_code, response.json()["code"]) == (403, "auth.permission_denied")
    before = api.audit_count("user.created")
    payload = {"email": "x@example.com", "role": "analyst"}
    response = api.client.post("/api/v1/users", json=payload, headers=headers)
    assert response.status_code == 403
    assert api.audit_count("user.created") == before
    _, marketer = api.user("supply_planner")
    response = api.client.get("/api/v1/people/u1/activity", headers=marketer)
    assert (response.status_code, response.json()["code"]) == (403, "auth.permission_denied")


def test_a_store_manager_sees_only_their_stores(api: Api) -> None:
    day = dt.date(2026, 3, 31)
    write_chain(
        api.runtime.lake,
        [
            Order("SH01", day, "app", 3_000, member="m1"),
            Order("SH01", day, "pos", 2_000),
            Order("SH02", day, "pos", 9_900, member="m2"),
        ],
    )
    _, manager = api.user("store_manager", stores=("SH01",))
    denied = api.client.get("/api/v1/stores/SH02/overview", headers=manager)
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.store_denied")
    mine = api.client.get("/api/v1/stores/SH01/overview?days=7", headers=manager)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["first"], body["last"]) == ("2026-03-25", "2026-03-31")
    assert body["totals"] == [{"currency": "CNY", "paid_minor": 5_000, "orders": 2}]
    assert body["active_members"] == 1
    chain = api.client.get("/api/v1/stores/SH02/overview?days=7", headers=api.admin).json()
    assert chain["totals"] == [{"currency": "CNY", "paid_minor": 9_900, "orders": 1}]


def test_a_session_cookie_works_and_writes_need_its_csrf_token(api: Api) -> None:
    email, password = f"console-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
    with api.engine.begin() as conn:
        create_user(
            conn, actor=Principal.cli(), email=email, role="admin", password=password, now=NOW
        )
        session = login(
            conn,
            email=email,
            password=password,
            now=dt.datetime.now(dt.UTC),
            policy=SessionPolicy.from_settings(api.settings),
        )
    assert session is not None
    api.client.cookies.set("newretail_session", session.token)
    assert api.client.get("/api/v1/me").json()["role"] == "admin"
    payload = {"email": f"new-{secrets.token_hex(4)}@example.com", "role": "analyst"}
    refused = api.client.post("/api/v1/users", json=payload)
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.bad_csrf")
    forged = api.client.post("/api/v1/users", json=payload, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    created = api.client.post(
        "/api/v1/users", json=payload, headers={"X-CSRF-Token": session.csrf_token}
    )
    assert created.status_code == 201, created.text
    api.client.cookies.set("newretail_session", "not-a-session")
    assert api.client.get("/api/v1/me").json()["code"] == "auth.no_session"
