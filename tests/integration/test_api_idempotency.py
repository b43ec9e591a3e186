"""Idempotency-Key on mutating calls: the same key and request → one effect and the stored response;
the same key with another request → 409; the secret in a stored response is not kept in clear."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from tests.integration.databases import dump
from tests.integration.test_api_app import Api
from tests.integration.test_api_app import api as api
from tests.integration.test_api_app import database_url as database_url
from tests.integration.test_api_app import migrated_engine as migrated_engine

from newretail.oltp.tables import users


def _users_with(api: Api, email: str) -> int:
    with api.engine.connect() as conn:
        query = select(func.count()).select_from(users).where(users.c.email == email)
        return int(conn.execute(query).scalar_one())


def test_same_key_twice_creates_one_user_and_replays_the_answer(api: Api) -> None:
    email = f"idem-{secrets.token_hex(4)}@example.com"
    headers = {**api.admin, "Idempotency-Key": secrets.token_hex(8)}
    audited = api.audit_count("user.created")
    first = api.client.post(
        "/api/v1/users", json={"email": email, "role": "analyst"}, headers=headers
    )
    again = api.client.post(
        "/api/v1/users", json={"email": email, "role": "analyst"}, headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _users_with(api, email) == 1
    assert api.audit_count("user.created") == audited + 1
    # The one-time password is in the stored response, but only encrypted.
    assert first.json()["password"] not in dump(api.engine)


def test_same_key_with_another_request_is_409_and_does_nothing(api: Api) -> None:
    key = secrets.token_hex(8)
    headers = {**api.admin, "Idempotency-Key": key}
    email = f"idem-{secrets.token_hex(4)}@example.com"
    assert (
        api.client.post(
            "/api/v1/users", json={"email": email, "role": "analyst"}, headers=headers
        ).status_code
        == 201
    )
    other = f"other-{secrets.token_hex(4)}@example.com"
    response = api.client.post(
        "/api/v1/users", json={"email": other, "role": "analyst"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency.key_reused"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _users_with(api, other) == 0
    # Keys belong to their caller: another admin may use the same key for its own request.
    _, second_admin = api.user("admin")
    response = api.client.post(
        "/api/v1/users",
        json={"email": other, "role": "analyst"},
        headers={**second_admin, "Idempotency-Key": key},
    )
    assert response.status_code == 201


def test_a_failed_call_keeps_no_claim_so_a_retry_proceeds(api: Api) -> None:
    headers = {**api.admin, "Idempotency-Key": secrets.token_hex(8)}
    email = f"late-{secrets.token_hex(4)}@example.com"
    payload = {"kind": "user", "email": email}
    assert (
        api.client.post("/api/v1/keys", json=payload, headers=headers).json()["code"]
        == "users.not_found"
    )
    assert (
        api.client.post(
            "/api/v1/users", json={"email": email, "role": "analyst"}, headers=api.admin
        ).status_code
        == 201
    )
    keys_created = api.audit_count("key.created")
    created = api.client.post("/api/v1/keys", json=payload, headers=headers)
    assert created.status_code == 201
    replay = api.client.post("/api/v1/keys", json=payload, headers=headers)
    assert replay.json()["key"] == created.json()["key"]
    assert created.json()["key"] not in dump(api.engine)
    assert api.audit_count("key.created") == keys_created + 1
    listed = api.client.get("/api/v1/keys?limit=500", headers=api.admin).json()
    assert sum(k["prefix"] == created.json()["prefix"] for k in listed["data"]) == 1


def test_revoke_with_a_key_replays_204(api: Api) -> None:
    write_key, _ = api.write_key()
    prefix = write_key.split("_")[1]
    headers = {**api.admin, "Idempotency-Key": "revoke-" + prefix}
    revoked = api.audit_count("key.revoked")
    first = api.client.delete(f"/api/v1/keys/{prefix}", headers=headers)
    again = api.client.delete(f"/api/v1/keys/{prefix}", headers=headers)
    assert (first.status_code, again.status_code, again.content) == (204, 204, b"")
    assert api.audit_count("key.revoked") == revoked + 1
    bad = api.client.delete(
        f"/api/v1/keys/{prefix}", headers={**api.admin, "Idempotency-Key": "x" * 300}
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "idempotency.bad_key")
