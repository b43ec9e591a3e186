"""The coupon API through the real app on SQLite and PostgreSQL: templates created, paused and read
with their counts and cost; issues to a list within budget and per-person limits, retried without a
second coupon; issues to an audience's snapshot; a person's coupons; re-issue by customer service
and revocation by marketing; roles, stable validation codes and Idempotency-Key replays."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.integration.audience_home import audience_template, copy_home
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_flashsales import problem
from tests.integration.test_api_loyalty import NOW, Shop, shop

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.oltp.tables import coupon_templates, coupons
from newretail.security.audit import Action

__all__ = ["audience_template", "shop"]


def template_body(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"t-{uuid.uuid4().hex[:10]}",
        "name": "满30减8",
        "name_en": "8 off 30",
        "kind": "amount_off",
        "currency": "CNY",
        "amount_off_minor": 800,
        "threshold_minor": 3000,
        "valid_days": 30,
    }
    body.update(change)
    return body


def new_template(shop: Shop, **change: Any) -> str:
    made = shop.ok(shop.post("/coupons/templates", template_body(**change), role="marketer"), 201)
    return str(made["id"])


def issue(shop: Shop, template_id: str, persons: list[str], issue_key: str, **extra: Any) -> Any:
    body = {"person_ids": persons, "issue_key": issue_key}
    return shop.post(f"/coupons/templates/{template_id}/issues", body, role="marketer", **extra)


def test_marketers_create_templates_everyone_with_loyalty_read_sees_their_counts(
    shop: Shop,
) -> None:
    body = template_body(scope={"channels": ["app"], "categories": ["coffee"]}, budget_total=10)
    created = shop.ok(shop.post("/coupons/templates", body, role="marketer"), 201)
    assert created["status"] == "active" and created["scope"]["channels"] == ["app"]
    assert created["stats"] == {
        "issued": 0,
        "outstanding": 0,
        "redeemed": 0,
        "expired": 0,
        "revoked": 0,
        "cost_minor": 0,
    }
    listed = shop.ok(shop.get("/coupons/templates", role="service_agent", limit=500))
    assert body["id"] in {t["id"] for t in listed["data"]}
    assert "size_up" in {t["id"] for t in listed["data"]}
    one = shop.ok(shop.get(f"/coupons/templates/{body['id']}", role="analyst"))
    assert one["budget_total"] == 10 and one["threshold_minor"] == 3000
    problem(shop.get("/coupons/templates/nope", role="analyst"), 404, "coupon_template.unknown")
    problem(shop.get("/coupons/templates", role="manager"), 403, "auth.permission_denied")
    problem(
        shop.post("/coupons/templates", template_body(), role="service_agent"),
        403,
        "auth.permission_denied",
    )
    assert shop.api.audit_count(Action.COUPON_TEMPLATE_CREATED) >= 1


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount_off_minor": None}, "coupon_template.amount_required", "amount_off_minor"),
        ({"percent_off": 10}, "coupon_template.field_not_for_kind", "percent_off"),
        ({"valid_days": None}, "coupon_template.validity_required", "valid_days"),
        (
            {"kind": "free_item", "amount_off_minor": None, "threshold_minor": None},
            "coupon_template.target_required",
            "target_product_id",
        ),
        ({"currency": "EUR"}, "coupon_template.unknown_currency", "currency"),
        ({"id": "Upper Case"}, "coupon_template.invalid", "id"),
        ({"scope": {"channels": ["fax"]}}, "coupon_template.unknown_channel", "scope.channels"),
    ],
)
def test_a_bad_template_is_refused_with_its_code_and_field(
    shop: Shop, change: dict[str, Any], code: str, field: str
) -> None:
    body = {k: v for k, v in template_body(**change).items() if v is not None}
    refused = shop.post("/coupons/templates", body, role="marketer")
    problem(refused, 422, code)
    assert refused.json()["errors"][0]["field"] == field
    with shop.api.engine.connect() as conn:
        query = select(func.count()).where(coupon_templates.c.id == body["id"])
        assert conn.execute(query).scalar_one() == 0


def test_a_template_request_of_the_wrong_shape_is_refused(shop: Shop) -> None:
    for body, field in (
        ({**template_body(), "colour": "red"}, "colour"),
        ({**template_body(), "kind": "bogof"}, "kind"),
        ({**template_body(), "amount_off_minor": "lots"}, "amount_off_minor"),
    ):
        refused = shop.post("/coupons/templates", body, role="marketer")
        problem(refused, 422, "request.invalid")
        assert refused.json()["errors"][0]["field"] == field


def test_an_issue_keeps_budget_and_limits_and_a_retry_issues_nothing_twice(shop: Shop) -> None:
    template_id = new_template(shop, budget_total=3, per_person_limit=1)
    a, b, c, d = (shop.person()[0] for _ in range(4))
    first = issue(shop, template_id, [a, b, a], "wave-1", key="issue-1")
    assert shop.ok(first) == {
        "template_id": template_id,
        "issue_key": "wave-1",
        "snapshot_id": None,
        "persons": 2,
        "issued": 2,
        "already": 0,
        "over_budget": 0,
        "over_person_limit": 0,
    }
    replay = issue(shop, template_id, [a, b, a], "wave-1", key="issue-1")
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    # A fresh Idempotency-Key with the same issue key: the persons have theirs already.
    again = shop.ok(issue(shop, template_id, [a, b], "wave-1"))
    assert (again["issued"], again["already"]) == (0, 2)
    # Another wave: a and b are at their limit of one; one coupon of budget is left for c and d.
    wave = shop.ok(issue(shop, template_id, [a, c, d], "wave-2"))
    assert (wave["issued"], wave["over_person_limit"], wave["over_budget"]) == (1, 1, 1)
    stats = shop.ok(shop.get(f"/coupons/templates/{template_id}", role="analyst"))["stats"]
    assert (stats["issued"], stats["outstanding"]) == (3, 3)
    assert shop.api.audit_count(Action.COUPONS_ISSUED) >= 3

    by_agent = shop.post(
        f"/coupons/templates/{template_id}/issues",
        {"person_ids": [a], "issue_key": "x"},
        role="service_agent",
    )
    problem(by_agent, 403, "auth.permission_denied")
    for body, field in (
        ({"issue_key": "k"}, "body"),
        ({"person_ids": [a], "audience_id": "aud", "issue_key": "k"}, "body"),
        ({"person_ids": [a]}, "issue_key"),
        ({"person_ids": [a], "issue_key": ""}, "issue_key"),
        ({"person_ids": [a], "issue_key": "k", "snapshot_id": "s"}, "body"),
    ):
        refused = shop.post(f"/coupons/templates/{template_id}/issues", body, role="marketer")
        problem(refused, 422, "request.invalid")
        assert refused.json()["errors"][0]["field"] == field
    too_many = shop.post(
        f"/coupons/templates/{template_id}/issues",
        {"person_ids": ["p"] * 100_001, "issue_key": "k"},
        role="marketer",
    )
    problem(too_many, 422, "request.invalid")
    problem(issue(shop, "nope", [a], "k"), 404, "coupon_template.unknown")


def test_a_paused_template_issues_nothing_until_resumed(shop: Shop) -> None:
    template_id = new_template(shop)
    person = shop.person()[0]
    status = f"/coupons/templates/{template_id}/status"
    paused = shop.ok(shop.post(status, {"status": "paused"}, role="marketer"))
    assert paused["status"] == "paused"
    problem(issue(shop, template_id, [person], "k"), 409, "coupon_template.inactive")
    assert shop.coupon_count(person) == 0
    shop.ok(shop.post(status, {"status": "active"}, role="marketer"))
    assert shop.ok(issue(shop, template_id, [person], "k"))["issued"] == 1
    shop.ok(shop.post(status, {"status": "retired"}, role="marketer"))
    problem(
        shop.post(status, {"status": "active"}, role="marketer"), 409, "coupon_template.retired"
    )
    problem(shop.post(status, {"status": "gone"}, role="marketer"), 422, "request.invalid")
    problem(shop.post(status, {"status": "paused"}, role="channel"), 403, "auth.permission_denied")
    assert shop.api.audit_count(Action.COUPON_TEMPLATE_UPDATED) >= 3


def test_customer_service_reissues_and_marketing_revokes(shop: Shop) -> None:
    template_id = new_template(shop, per_person_limit=1)
    person = shop.person()[0]
    old = shop.ok(issue(shop, template_id, [person], "k"))
    assert old["issued"] == 1
    (code,) = [
        c["id"] for c in shop.ok(shop.get("/coupons", role="analyst", person_id=person))["data"]
    ]

    before = shop.api.audit_count(Action.COUPON_REISSUED)
    reason = {"reason": "lost in the app outage"}
    fresh = shop.ok(shop.post(f"/coupons/{code}/reissue", reason, role="service_agent"), 201)
    assert fresh["id"] != code and fresh["template_id"] == template_id
    assert fresh["person_id"] == person and fresh["status"] == "issued"
    # Asking again (a fresh request) gives the same replacement, audited once.
    again = shop.ok(shop.post(f"/coupons/{code}/reissue", reason, role="service_agent"), 201)
    assert again["id"] == fresh["id"]
    assert shop.api.audit_count(Action.COUPON_REISSUED) == before + 1
    problem(
        shop.post(f"/coupons/{code}/reissue", reason, role="marketer"),
        403,
        "auth.permission_denied",
    )
    problem(shop.post(f"/coupons/{code}/reissue", {}, role="service_agent"), 422, "request.invalid")
    problem(shop.post("/coupons/NOPE/reissue", reason, role="service_agent"), 404, "coupon.unknown")

    revoked = shop.ok(shop.post(f"/coupons/{code}/revoke", None, role="marketer"))
    assert revoked["status"] == "revoked"
    assert shop.ok(shop.post(f"/coupons/{code}/revoke", None, role="marketer")) == revoked
    problem(
        shop.post(f"/coupons/{fresh['id']}/revoke", None, role="service_agent"),
        403,
        "auth.permission_denied",
    )
    listed = shop.ok(shop.get("/coupons", role="service_agent", person_id=person))
    assert {c["id"]: c["status"] for c in listed["data"]} == {
        code: "revoked",
        fresh["id"]: "issued",
    }
    only = shop.ok(shop.get("/coupons", role="analyst", person_id=person, status="issued"))
    assert [c["id"] for c in only["data"]] == [fresh["id"]]
    problem(
        shop.get("/coupons", role="analyst", person_id=person, status="used"),
        422,
        "request.invalid",
    )
    problem(shop.get("/coupons", role="analyst"), 422, "request.invalid")
    problem(shop.get("/coupons", role="manager", person_id=person), 403, "auth.permission_denied")
    problem(shop.get("/coupons", role="analyst", person_id="P-nobody"), 404, "person.unknown")


@pytest.fixture(scope="module")
def audience_api(
    audience_template: Path,
    migrated_engine: Engine,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    """The app over a generated, tagged chain (for audiences), on the module's database."""
    home = copy_home(audience_template, tmp_path_factory.mktemp("coupon-audience") / "home")
    settings = api_settings(home, database_url)
    app = create_app(settings, flush_in_background=False)
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app) as client:
        harness = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, harness.admin = harness.user("admin")
        yield harness


@pytest.mark.slow
def test_an_audience_is_issued_to_through_its_latest_snapshot(audience_api: Api) -> None:
    marketer = audience_api.user("marketer")[1]

    def post(path: str, body: Any) -> Any:
        headers = {**marketer, "Idempotency-Key": secrets.token_hex(8)}
        response = audience_api.client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    audience = post("/audiences", {"name": "regulars", "text": "orders_90d >= 3"})
    template_id = post("/coupons/templates", template_body())["id"]
    issues = f"/coupons/templates/{template_id}/issues"
    # No snapshot yet: one is frozen now and issued to.
    first = post(issues, {"audience_id": audience["id"], "issue_key": "regulars-1"})
    assert first["snapshot_id"] and first["issued"] == first["persons"] > 0
    with audience_api.engine.connect() as conn:
        count = select(func.count()).where(coupons.c.template_id == template_id)
        assert conn.execute(count).scalar_one() == first["issued"]
    # Again: the latest snapshot is the same, and everyone has theirs.
    second = post(issues, {"audience_id": audience["id"], "issue_key": "regulars-1"})
    assert second["snapshot_id"] == first["snapshot_id"]
    assert (second["issued"], second["already"]) == (0, first["issued"])
    named = {"audience_id": "other", "snapshot_id": first["snapshot_id"], "issue_key": "k"}
    headers = {**marketer, "Idempotency-Key": secrets.token_hex(8)}
    refused = audience_api.client.post(f"/api/v1{issues}", json=named, headers=headers)
    problem(refused, 404, "audience.unknown_snapshot")
