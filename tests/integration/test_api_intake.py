"""Segment intake over HTTP: write keys by HTTP Basic, durable 200s, counted activity, rejections that
keep nothing, gzip, the lake after a flush; on the embedded stream and on Redis."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_app import api as api
from tests.integration.test_api_app import database_url as database_url
from tests.integration.test_api_app import migrated_engine as migrated_engine
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.api import create_app
from newretail.ingest.events import MAX_BATCH_BYTES, flush

OK = {"success": True}


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def intake(
    request: pytest.FixtureRequest,
    api: Api,
    migrated_engine: Engine,
    database_url: str,
    isolated_home: Path,
) -> Iterator[Api]:
    """The app on the embedded stream, or a second app on Redis under a unique key prefix."""
    if request.param == "embedded":
        yield api
        return
    require_redis()
    import redis

    prefix = f"nrtest:{uuid.uuid4().hex}:"
    settings = api_settings(isolated_home / "redis", database_url, redis_url=REDIS_URL)
    app = create_app(settings, stream_prefix=prefix, flush_in_background=False)
    try:
        with TestClient(app) as client:
            yield Api(client=client, engine=migrated_engine, settings=settings, admin=api.admin)
    finally:
        server = redis.Redis.from_url(REDIS_URL)
        keys = list(server.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            server.delete(*keys)
        server.close()


def _activity(api: Api, person: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/people/{person}/activity", headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _lake_ids(api: Api) -> list[str]:
    runtime = api.runtime
    flush(log=runtime.stores.log, lake=runtime.lake, consumer="test")
    ids: list[str] = []
    for partition in runtime.lake.partitions("ods", "app_events"):
        table = runtime.lake.read_partition("ods", "app_events", partition)
        ids.extend(str(m) for m in table.column("message_id").to_pylist())
    return ids


def test_every_endpoint_accepts_and_counts(intake: Api) -> None:
    auth = intake.write_key()
    person = f"u-{uuid.uuid4().hex[:8]}"
    messages = {
        "identify": {"userId": person, "traits": {"plan": "gold"}, "messageId": "m-i"},
        "track": {"userId": person, "event": "Product Viewed", "messageId": "m-t"},
        "page": {"userId": person, "name": "Menu", "messageId": "m-p"},
        "screen": {"userId": person, "name": "Home", "messageId": "m-s"},
        "group": {"userId": person, "groupId": "g1", "messageId": "m-g"},
        "alias": {"userId": person, "previousId": "anon-1", "messageId": "m-a"},
    }
    for endpoint, message in messages.items():
        response = intake.client.post(f"/v1/{endpoint}", json=message, auth=auth)
        assert (response.status_code, response.json()) == (200, OK), response.text
    batch = {
        "batch": [
            {"type": "track", "userId": person, "event": "Tick", "messageId": f"b{i}"}
            for i in range(3)
        ]
    }
    assert intake.client.post("/v1/batch", json=batch, auth=auth).json() == OK
    activity = _activity(intake, person)
    assert activity["events_on_day"] == 9 and activity["last_seen"] is not None
    # A retried message id is accepted again (200) but counted and stored once.
    assert intake.client.post("/v1/batch", json=batch, auth=auth).json() == OK
    assert _activity(intake, person)["events_on_day"] == 9
    ids = _lake_ids(intake)
    assert sorted(ids) == sorted(["m-i", "m-t", "m-p", "m-s", "b0", "b1", "b2"])


def test_gzip_bodies_are_read(intake: Api) -> None:
    person = f"u-{uuid.uuid4().hex[:8]}"
    body = gzip.compress(
        json.dumps({"batch": [{"type": "page", "anonymousId": person, "name": "A"}]}).encode()
    )
    response = intake.client.post(
        "/v1/batch",
        content=body,
        auth=intake.write_key(),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.json() == OK
    assert _activity(intake, person)["events_on_day"] == 1


def test_rejections_name_code_field_and_position_and_keep_nothing(intake: Api) -> None:
    auth = intake.write_key()
    person = f"u-{uuid.uuid4().hex[:8]}"
    good = {"type": "track", "userId": person, "event": "Tick"}
    cases: list[tuple[str, bytes, dict[str, str], str]] = [
        ("batch", b'{"batch": [', {}, "events.malformed_json"),
        (
            "batch",
            json.dumps({"batch": [good, {"type": "track", "event": "X"}]}).encode(),
            {},
            "events.missing_identity",
        ),
        (
            "batch",
            json.dumps({"batch": [good, {"type": "shout", "userId": "u"}]}).encode(),
            {},
            "events.unknown_type",
        ),
        ("track", json.dumps({"userId": person}).encode(), {}, "events.missing_field"),
        (
            "page",
            json.dumps({"type": "track", "userId": person, "event": "E"}).encode(),
            {},
            "events.type_mismatch",
        ),
        (
            "track",
            json.dumps({**good, "timestamp": "yesterday"}).encode(),
            {},
            "events.invalid_timestamp",
        ),
        (
            "track",
            json.dumps(good).encode(),
            {"Content-Encoding": "br"},
            "events.unsupported_encoding",
        ),
        (
            "track",
            json.dumps({**good, "properties": {"pad": "x" * 40_000}}).encode(),
            {},
            "events.event_too_large",
        ),
        ("batch", json.dumps({"batch": [good] * 12_000}).encode(), {}, "events.batch_too_large"),
    ]
    for endpoint, body, headers, code in cases:
        response = intake.client.post(f"/v1/{endpoint}", content=body, auth=auth, headers=headers)
        assert response.status_code == 400, (code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code
    second = intake.client.post(
        "/v1/batch",
        content=json.dumps({"batch": [good, {"type": "track", "event": "X"}]}).encode(),
        auth=auth,
    ).json()
    assert second["position"] == "batch[1]"
    third = intake.client.post(
        "/v1/track", content=json.dumps({"userId": person}).encode(), auth=auth
    ).json()
    assert third["errors"][0]["field"] == "event"
    assert len(json.dumps({"batch": [good] * 12_000})) > MAX_BATCH_BYTES
    assert _activity(intake, person)["events_on_day"] == 0
    assert _lake_ids(intake) == []


def test_intake_needs_a_live_write_key(intake: Api) -> None:
    body = {"userId": "u1", "event": "Viewed"}
    for auth, code in [
        (None, "auth.missing_write_key"),
        (("nrw_000000000000_nope", ""), "auth.invalid_key"),
    ]:
        response = intake.client.post("/v1/track", json=body, auth=auth)
        assert (response.status_code, response.json()["code"]) == (401, code)
    key, _ = intake.write_key()
    prefix = key.split("_")[1]
    assert intake.client.delete(f"/api/v1/keys/{prefix}", headers=intake.admin).status_code == 204
    response = intake.client.post("/v1/track", json=body, auth=(key, ""))
    assert (response.status_code, response.json()["code"]) == (401, "auth.key_revoked")


def test_an_unreachable_stream_is_503(
    api: Api, migrated_engine: Engine, database_url: str, isolated_home: Path
) -> None:
    pytest.importorskip("redis")
    settings = api_settings(isolated_home / "down", database_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings, flush_in_background=False)) as client:
        down = Api(client=client, engine=migrated_engine, settings=settings, admin=api.admin)
        response = client.post(
            "/v1/track", json={"userId": "u1", "event": "E"}, auth=down.write_key()
        )
        assert (response.status_code, response.json()["code"]) == (503, "stream.redis_unavailable")
