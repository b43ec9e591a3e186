"""The flash-sale API end to end on both engines and both databases: create, upload a list, arm,
reserve, repeat a click, pay, let one expire, write the orders and reconcile to zero; bad input
answered with stable codes and nothing taken; idempotent admin calls; rate limits and the waiting
room; roles."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.test_api_app import Api, api_settings
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.flashsale import OrderWriter, reconcile
from newretail.oltp.tables import audit_log, flashsale_sales

PROBLEM = "application/problem+json"
T0 = dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC)


@dataclass
class Flash:
    api: Api
    clock: dict[str, dt.datetime]
    marketer: dict[str, str] = field(default_factory=dict)
    channel: dict[str, str] = field(default_factory=dict)
    analyst: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:
        return self.api.client

    def at(self, moment: dt.datetime) -> None:
        self.clock["now"] = moment

    def sale(self, **change: Any) -> str:
        """Create (as the marketer) and arm a sale open for an hour from T0; its id."""
        body = {
            "id": f"fs-{uuid.uuid4().hex[:10]}",
            "name": "Double 11",
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
            "per_person_limit": 2,
            "payment_window_seconds": 60,
            "channels": ["app"],
            "items": [{"sku": "SKU-A", "stock": 5, "price_minor": 990, "currency": "CNY"}],
            **change,
        }
        made = self.client.post("/api/v1/flashsales", json=body, headers=key(self.marketer))
        assert made.status_code == 201, made.text
        armed = self.client.post(f"/api/v1/flashsales/{body['id']}/arm", headers=key(self.marketer))
        assert armed.status_code == 200, armed.text
        return str(body["id"])

    def reserve(
        self, sale: str, person: str, *, request_key: str | None = None, **extra: Any
    ) -> Any:
        headers = {**self.channel, "Idempotency-Key": request_key or secrets.token_hex(6)}
        headers.update(extra.pop("headers", {}))
        body = {"sku": "SKU-A", "person_id": person, **extra}
        return self.client.post(
            f"/api/v1/flashsales/{sale}/reservations", json=body, headers=headers
        )

    def remaining(self, sale: str) -> int:
        got = self.client.get(f"/api/v1/flashsales/{sale}", headers=self.marketer).json()
        return int(sum(item["remaining"] for item in got["items"]))


def key(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": secrets.token_hex(8)}


def open_flash(
    migrated_engine: Engine, database_url: str, home: Path, kind: str, **policy: int
) -> Iterator[Flash]:
    extra: dict[str, object] = {f"flashsale_{name}": value for name, value in policy.items()}
    prefix = "newretail:"
    if kind == "redis":
        require_redis()
        extra["redis_url"] = REDIS_URL
        prefix = f"nrtest:{uuid.uuid4().hex}:"
    settings = api_settings(home, database_url, **extra)
    app = create_app(settings, stream_prefix=prefix, flush_in_background=False)
    clock = {"now": T0}
    app.dependency_overrides[get_now] = lambda: clock["now"]
    try:
        with TestClient(app) as client:
            api = Api(client=client, engine=migrated_engine, settings=settings, admin={})
            flash = Flash(api=api, clock=clock)
            _, api.admin = api.user("admin")
            _, flash.marketer = api.user("marketer")
            _, flash.channel = api.user("channel")
            _, flash.analyst = api.user("analyst")
            yield flash
    finally:
        if kind == "redis":
            import redis

            store = redis.Redis.from_url(REDIS_URL)
            stale = list(store.scan_iter(match=f"{prefix}*", count=1000))
            if stale:
                store.delete(*stale)
            store.close()


KINDS = ["inprocess", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=KINDS)
def flash(
    request: pytest.FixtureRequest,
    migrated_engine: Engine,
    database_url: str,
    isolated_home: Path,
) -> Iterator[Flash]:
    yield from open_flash(migrated_engine, database_url, isolated_home, request.param)


def write_orders(flash: Flash) -> None:
    runtime = flash.api.runtime
    OrderWriter(runtime.flashsale.order_log, flash.api.engine, consumer="test").drain()


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code


def test_a_sale_from_creation_to_reconciliation(flash: Flash) -> None:
    made = flash.client.post(
        "/api/v1/flashsales",
        json={
            "id": (sale := f"fs-{uuid.uuid4().hex[:10]}"),
            "name": "Double 11",
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(),
            "per_person_limit": 2,
            "payment_window_seconds": 60,
            "channels": ["app", "mini_program"],
            "eligibility": "list",
            "eligible_person_ids": ["p1", "p2"],
            "items": [{"sku": "SKU-A", "stock": 3, "price_minor": 990, "currency": "CNY"}],
        },
        headers=key(flash.marketer),
    )
    assert made.status_code == 201, made.text
    assert (made.json()["phase"], made.json()["counts"]) == ("draft", None)
    listed = flash.client.post(
        f"/api/v1/flashsales/{sale}/eligible",
        json={"person_ids": ["p3", "p1"]},
        headers=key(flash.marketer),
    )
    assert listed.json() == {"sale_id": sale, "persons": 3}
    flash.at(T0 - dt.timedelta(minutes=5))
    armed = flash.client.post(f"/api/v1/flashsales/{sale}/arm", headers=key(flash.marketer))
    assert armed.json()["phase"] == "scheduled"
    flash.at(T0 + dt.timedelta(seconds=1))

    first = flash.reserve(sale, "p1", request_key="click-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["quantity"], body["replayed"]) == ("reserved", 1, False)
    assert body["expires_at"] == "2026-11-11T00:01:01Z"
    assert first.headers["location"].endswith(f"/reservations/{body['id']}")
    again = flash.reserve(sale, "p1", request_key="click-1")
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == body["id"] and again.json()["replayed"] is True
    second = flash.reserve(sale, "p2", quantity=2)
    assert second.status_code == 201, second.text

    paid = flash.client.post(
        f"/api/v1/flashsales/{sale}/reservations/{body['id']}/payment", headers=key(flash.channel)
    )
    assert paid.json() == {"reservation_id": body["id"], "status": "paid", "replayed": False}
    repaid = flash.client.post(
        f"/api/v1/flashsales/{sale}/reservations/{body['id']}/payment", headers=key(flash.channel)
    )
    assert repaid.json()["replayed"] is True

    flash.at(T0 + dt.timedelta(minutes=2))
    flash.api.runtime.flashsale.expire_due(now=flash.clock["now"])
    expired = flash.client.get(
        f"/api/v1/flashsales/{sale}/reservations/{second.json()['id']}", headers=flash.channel
    )
    assert expired.json()["status"] == "expired"
    late = flash.client.post(
        f"/api/v1/flashsales/{sale}/reservations/{second.json()['id']}/payment",
        headers=key(flash.channel),
    )
    problem(late, 409, "flashsale.reservation_expired")

    read = flash.client.get(f"/api/v1/flashsales/{sale}", headers=flash.analyst).json()
    assert read["items"][0] | {"remaining": read["items"][0]["remaining"]} == {
        "sku": "SKU-A",
        "stock": 3,
        "price_minor": 990,
        "currency": "CNY",
        "remaining": 2,
        "reserved": 3,
        "paid": 1,
        "expired": 2,
    }
    assert read["counts"]["reservations"] == 2 and read["counts"]["payments"] == 1

    write_orders(flash)
    with flash.api.engine.connect() as conn:
        result = reconcile(conn, flash.api.runtime.flashsale, sale)
    assert result.ok, result.differences
    assert result.orders == 2
    with flash.api.engine.connect() as conn:
        actions = set(
            conn.execute(select(audit_log.c.action).where(audit_log.c.target_id == sale)).scalars()
        )
    assert {"flashsale.created", "flashsale.list_uploaded", "flashsale.armed"} <= actions


def test_bad_input_answers_with_a_stable_code_and_takes_nothing(flash: Flash) -> None:
    sale = flash.sale(per_person_limit=1, eligibility="list", eligible_person_ids=["p1", "p2"])
    flash.at(T0 + dt.timedelta(seconds=5))
    assert flash.reserve(sale, "p2").status_code == 201
    base = flash.remaining(sale)
    url = f"/api/v1/flashsales/{sale}/reservations"
    with_key = {**flash.channel, "Idempotency-Key": "k-bad"}
    for response, status, code in (
        (flash.reserve("fs-nope", "p1"), 404, "flashsale.unknown_sale"),
        (flash.reserve(sale, "p9"), 403, "flashsale.ineligible"),
        (flash.reserve(sale, "p2"), 409, "flashsale.limit_reached"),
        (flash.reserve(sale, "p1", sku="SKU-Z"), 404, "flashsale.unknown_item"),
        (flash.reserve(sale, "p1", quantity=0), 422, "flashsale.bad_request"),
        (flash.reserve(sale, "p1", quantity="1"), 422, "flashsale.bad_request"),
        (flash.reserve(sale, "p|1"), 422, "flashsale.bad_request"),
        (flash.reserve(sale, "p1", colour="red"), 422, "flashsale.bad_request"),
        (flash.client.post(url, content=b"{nope", headers=with_key), 400, "request.malformed_json"),
        (flash.client.post(url, content=b"[1]", headers=with_key), 422, "flashsale.bad_request"),
        (flash.client.post(url, content=b"x" * 5000, headers=with_key), 413, "request.too_large"),
        (
            flash.client.post(url, json={"sku": "SKU-A", "person_id": "p1"}, headers=flash.channel),
            422,
            "idempotency.key_required",
        ),
        (
            flash.client.post(url, json={}, headers={"Idempotency-Key": "k"}),
            401,
            "auth.missing_credentials",
        ),
        (
            flash.client.post(
                url,
                json={"sku": "SKU-A", "person_id": "p1"},
                headers={"Authorization": "Bearer nru_nope_nope", "Idempotency-Key": "k"},
            ),
            401,
            "auth.invalid_key",
        ),
        (flash.reserve(sale, "p1", headers=key(flash.analyst)), 403, "auth.permission_denied"),
    ):
        problem(response, status, code)
    assert flash.reserve(sale, "p1", quantity=1, sku="SKU-A").status_code == 201
    assert flash.remaining(sale) == base - 1
    field = flash.reserve(sale, "p1", quantity=101).json()["errors"][0]["field"]
    assert field == "quantity"

    flash.at(T0 - dt.timedelta(minutes=1))
    problem(flash.reserve(sale, "p1"), 409, "flashsale.not_started")
    flash.at(T0 + dt.timedelta(minutes=10))
    closed = flash.client.post(f"/api/v1/flashsales/{sale}/close", headers=key(flash.marketer))
    assert closed.json()["phase"] == "ended" and closed.json()["closed_at"]
    problem(flash.reserve(sale, "p1"), 409, "flashsale.ended")
    sold_out = flash.sale(items=[{"sku": "SKU-A", "stock": 1, "price_minor": 1, "currency": "CNY"}])
    assert flash.reserve(sold_out, "p1").status_code == 201
    problem(flash.reserve(sold_out, "p2"), 409, "flashsale.sold_out")
    rejections = flash.client.get(f"/api/v1/flashsales/{sale}", headers=flash.marketer).json()
    assert rejections["counts"]["rejections"]["flashsale.ineligible"] == 1


def test_admin_calls_refuse_bad_sales_and_replay_on_a_repeated_key(
    flash: Flash, migrated_engine: Engine
) -> None:
    def count() -> int:
        with migrated_engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(flash_sales)).scalar_one())

    flash_sales = flashsale_sales
    before = count()
    body = {
        "name": "Bad",
        "starts_at": T0.isoformat(),
        "ends_at": T0.isoformat(),
        "per_person_limit": 1,
        "channels": ["app"],
        "items": [{"sku": "SKU-A", "stock": 1, "price_minor": 990, "currency": "CNY"}],
    }
    refused = flash.client.post("/api/v1/flashsales", json=body, headers=key(flash.marketer))
    problem(refused, 422, "flashsale.bad_request")
    assert refused.json()["errors"][0]["field"] == "ends_at"
    no_key = flash.client.post("/api/v1/flashsales", json=body, headers=flash.marketer)
    problem(no_key, 422, "idempotency.key_required")
    by_analyst = flash.client.post("/api/v1/flashsales", json=body, headers=key(flash.analyst))
    problem(by_analyst, 403, "auth.permission_denied")
    by_channel = flash.client.post("/api/v1/flashsales", json=body, headers=key(flash.channel))
    problem(by_channel, 403, "auth.permission_denied")
    assert count() == before

    good = {**body, "ends_at": (T0 + dt.timedelta(hours=1)).isoformat(), "name": "Good"}
    headers = key(flash.marketer)
    first = flash.client.post("/api/v1/flashsales", json=good, headers=headers)
    second = flash.client.post("/api/v1/flashsales", json=good, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true" and first.json() == second.json()
    assert count() == before + 1
    sale = first.json()["id"]
    arm_key = key(flash.marketer)
    armed = [flash.client.post(f"/api/v1/flashsales/{sale}/arm", headers=arm_key) for _ in "12"]
    assert [a.status_code for a in armed] == [200, 200]
    assert armed[1].headers["idempotent-replayed"] == "true"
    problem(
        flash.client.post(
            f"/api/v1/flashsales/{sale}/eligible",
            json={"person_ids": ["p1"]},
            headers=key(flash.marketer),
        ),
        409,
        "flashsale.not_a_list_sale",
    )
    listing = flash.client.get("/api/v1/flashsales?limit=500", headers=flash.analyst).json()
    assert sale in {s["id"] for s in listing["data"]}
    problem(
        flash.client.get("/api/v1/flashsales/fs-none", headers=flash.analyst),
        404,
        "flashsale.unknown_sale",
    )
    assert (
        "/api/v1/flashsales/{sale_id}/reservations"
        in flash.client.get("/openapi.json").json()["paths"]
    )


@pytest.fixture(params=KINDS)
def crowded(
    request: pytest.FixtureRequest,
    migrated_engine: Engine,
    database_url: str,
    isolated_home: Path,
) -> Iterator[Flash]:
    """A server whose sales admit 10 callers a second (a burst of 250 ms: 3 at once), 3 attempts
    per person and 4 per address each second."""
    yield from open_flash(
        migrated_engine,
        database_url,
        isolated_home,
        request.param,
        person_per_second=3,
        address_per_second=4,
        admit_per_second=10,
    )


def test_rate_limits_refuse_with_retry_after_and_take_nothing(crowded: Flash) -> None:
    sale = crowded.sale(
        items=[{"sku": "SKU-A", "stock": 50, "price_minor": 990, "currency": "CNY"}]
    )
    crowded.at(T0 + dt.timedelta(seconds=10))
    clicks = [
        crowded.reserve(sale, "p1", request_key="same", headers={"X-Forwarded-For": f"10.0.0.{i}"})
        for i in range(4)
    ]
    assert [c.status_code for c in clicks] == [201, 200, 200, 429]
    problem(clicks[3], 429, "flashsale.rate_limited")
    assert clicks[3].headers["retry-after"] == "1"
    crowded.at(T0 + dt.timedelta(seconds=20))
    shared = [
        crowded.reserve(sale, f"q{i}", headers={"X-Forwarded-For": "203.0.113.7, 10.1.1.1"})
        for i in range(5)
    ]
    assert [s.status_code for s in shared][-1] == 429
    assert crowded.remaining(sale) == 50 - sum(s.status_code == 201 for s in [*clicks, *shared])


def test_the_waiting_room_queues_callers_and_admits_them_in_order(crowded: Flash) -> None:
    sale = crowded.sale(
        items=[{"sku": "SKU-A", "stock": 50, "price_minor": 990, "currency": "CNY"}]
    )
    rush = T0 + dt.timedelta(seconds=30)
    crowded.at(rush)
    answers = [
        crowded.reserve(sale, f"r{i}", headers={"X-Forwarded-For": f"10.9.0.{i}"}) for i in range(6)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 202, 202, 202]
    waiting = [a.json() for a in answers[3:]]
    assert [w["position"] for w in waiting] == [1, 2, 3]
    assert all(a.headers["retry-after"] == "1" for a in answers[3:])
    assert {w["person_id"] for w in waiting} == {"r3", "r4", "r5"}
    live = crowded.client.get(f"/api/v1/flashsales/{sale}", headers=crowded.marketer).json()
    assert (live["counts"]["waiting"], live["counts"]["tickets"]) == (3, 3)
    assert crowded.remaining(sale) == 47  # a ticket holds no stock

    # Back too early: the same ticket and place. A ticket is the holder's alone.
    early = crowded.reserve(
        sale, "r5", ticket=waiting[2]["ticket"], headers={"X-Forwarded-For": "10.9.1.1"}
    )
    assert early.status_code == 202 and early.json()["ticket"] == waiting[2]["ticket"]
    borrowed = crowded.reserve(
        sale, "r9", ticket=waiting[0]["ticket"], headers={"X-Forwarded-For": "10.9.1.2"}
    )
    assert borrowed.status_code == 202 and borrowed.json()["position"] == 4

    # Each is admitted once its turn has come, in order.
    crowded.at(rush + dt.timedelta(milliseconds=100))
    turns = [
        crowded.reserve(
            sale, w["person_id"], ticket=w["ticket"], headers={"X-Forwarded-For": f"10.9.2.{i}"}
        ).status_code
        for i, w in enumerate(waiting)
    ]
    assert turns == [201, 202, 202]
    crowded.at(rush + dt.timedelta(milliseconds=1_300))  # a new second for the limits too
    later = [
        crowded.reserve(
            sale, w["person_id"], ticket=w["ticket"], headers={"X-Forwarded-For": f"10.9.3.{i}"}
        ).status_code
        for i, w in enumerate(waiting[1:])
    ]
    assert later == [201, 201]
    assert crowded.remaining(sale) == 44
