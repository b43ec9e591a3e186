"""The persons API on a generated chain, on SQLite and PostgreSQL: the member 360 with every record and
why it is linked (and no phone in clear), search, merge and un-merge restoring the exact record sets,
re-merge, the review queue, errors as problem+json that change nothing, store scope and roles."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url, migrated_engine
from tests.integration.identity_chain import (
    build_chain,
    clear_phones,
    persons_with_orders,
    records_by_person,
    resolve,
)
from tests.integration.test_api_app import Api, api_settings

from newretail.api import create_app
from newretail.oltp.tables import identity_events

pytestmark = pytest.mark.slow
__all__ = ["database_url", "migrated_engine"]

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_chain(tmp_path_factory.mktemp("persons"))


@pytest.fixture(scope="module")
def api(
    home: Path,
    migrated_engine: Engine,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    resolve(home, migrated_engine, tmp_path_factory.mktemp("model") / "model.json")
    settings = api_settings(home, database_url)
    with TestClient(create_app(settings, flush_in_background=False)) as client:
        harness = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, harness.admin = harness.user("admin")
        yield harness


@pytest.fixture(scope="module")
def analyst(api: Api) -> dict[str, str]:
    return api.user("analyst")[1]


def key(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": secrets.token_hex(8)}


def multi_record_persons(api: Api) -> list[str]:
    """Persons with at least two records, most records first (ties by id): a stable order."""
    persons = records_by_person(api.engine)
    return sorted(
        (p for p, r in persons.items() if len(r) >= 2), key=lambda p: (-len(persons[p]), p)
    )


def identities(api: Api, person: str, headers: dict[str, str]) -> set[tuple[Any, ...]]:
    """The person's records with how each is linked (not when: an un-merge re-links them now)."""
    response = api.client.get(f"/api/v1/persons/{person}", headers=headers)
    assert response.status_code == 200, response.text
    return {
        (i["source"], i["source_record_id"], i["reason_kind"], i["reason"], i["match_weight"])
        for i in response.json()["identities"]
    }


def assert_no_clear_phone(text: str, phones: set[str]) -> None:
    assert phones
    for phone in phones:
        national = re.sub(r"^\+(86|65)", "", phone)
        assert phone not in text and national not in text


def audit_targets(api: Api, action: str) -> list[str | None]:
    entries = api.client.get(f"/api/v1/audit?action={action}", headers=api.admin).json()["data"]
    return [e["target_id"] for e in entries]


def test_the_360_shows_every_record_with_its_reason_and_no_clear_phone(
    api: Api, home: Path, analyst: dict[str, str]
) -> None:
    person = multi_record_persons(api)[0]
    records = records_by_person(api.engine)[person]
    response = api.client.get(f"/api/v1/persons/{person}", headers=analyst)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["person_id"], body["requested_id"], body["status"]) == (person, person, "active")
    assert {(i["source"], i["source_record_id"]) for i in body["identities"]} == records
    for identity in body["identities"]:
        assert identity["reason_kind"] in {"identifier", "match", "manual", "single"}
        assert identity["reason"]
        assert (identity["match_weight"] is not None) == (identity["reason_kind"] == "match")
        assert "phone_hash" not in identity and "phone_cipher" not in identity
    assert body["golden"]["records"] == len(records)
    assert_no_clear_phone(response.text, clear_phones(home, records))
    assert body["golden"]["phone_masked"] is None or "****" in body["golden"]["phone_masked"]


def test_money_is_minor_units_and_times_carry_an_offset(api: Api, home: Path) -> None:
    person, _ = persons_with_orders(home, api.engine).most_common(1)[0][0]
    body = api.client.get(f"/api/v1/persons/{person}", headers=api.admin).json()
    assert body["orders"] and body["orders_by_channel"] and body["timeline"]
    for order in body["orders"]:
        assert isinstance(order["paid_minor"], int) and order["currency"] in {"CNY", "SGD"}
        assert dt.datetime.fromisoformat(order["placed_at"]).tzinfo is not None
    for row in body["orders_by_channel"]:
        assert isinstance(row["paid_minor"], int) and isinstance(row["orders"], int)
    assert sum(r["orders"] for r in body["orders_by_channel"]) >= len(body["orders"])
    for item in body["timeline"]:
        assert dt.datetime.fromisoformat(item["at"]).tzinfo is not None


def test_search_finds_a_person_by_phone_record_id_and_person_id(
    api: Api, home: Path, analyst: dict[str, str]
) -> None:
    person = multi_record_persons(api)[0]
    records = sorted(records_by_person(api.engine)[person])
    phone = sorted(clear_phones(home, set(records)))[0]
    national = re.sub(r"^\+(86|65)", "", phone)
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    for query, matched_by in [
        (spaced, "phone"),
        (f"{records[0][0]}:{records[0][1]}", "record"),
        (records[0][1], "record"),
        (person, "person_id"),
    ]:
        response = api.client.get("/api/v1/persons", params={"q": query}, headers=analyst)
        assert response.status_code == 200, response.text
        hits = {h["person_id"]: h for h in response.json()["data"]}
        assert hits[person]["matched_by"] == matched_by, query
        assert set(hits[person]["sources"]) == {source for source, _ in records}
        assert_no_clear_phone(response.text, {phone})
    nobody = api.client.get("/api/v1/persons", params={"q": "139 0000 0000"}, headers=analyst)
    assert nobody.json() == {"data": [], "count": 0}


def test_merge_then_unmerge_restores_the_exact_record_sets(
    api: Api, analyst: dict[str, str]
) -> None:
    keep, absorb = multi_record_persons(api)[1:3]
    kept, absorbed = identities(api, keep, analyst), identities(api, absorb, analyst)
    body = {"absorb": absorb, "reason": "same member card"}
    merged = api.client.post(f"/api/v1/persons/{keep}/merge", json=body, headers=key(analyst))
    assert merged.status_code == 200, merged.text
    event = merged.json()
    assert (event["kind"], event["person_id"], event["other_person_id"]) == ("merge", keep, absorb)
    assert event["records_moved"] == len(absorbed)
    both = api.client.get(f"/api/v1/persons/{keep}", headers=analyst).json()
    assert {(i["source"], i["source_record_id"]) for i in both["identities"]} == {
        r[:2] for r in kept | absorbed
    }
    assert {
        i["reason_kind"]
        for i in both["identities"]
        if i["source_record_id"] in {r[1] for r in absorbed}
    } == {"manual"}
    retired = api.client.get(f"/api/v1/persons/{absorb}", headers=analyst).json()
    assert (retired["person_id"], retired["requested_id"]) == (keep, absorb)
    history = api.client.get(f"/api/v1/persons/{absorb}/history", headers=analyst).json()
    assert history["person_id"] == keep and history["data"][0]["id"] == event["id"]
    assert keep in audit_targets(api, "identity.merged")

    undone = api.client.post(f"/api/v1/persons/{keep}/unmerge", headers=key(analyst))
    assert undone.status_code == 200, undone.text
    assert (undone.json()["kind"], undone.json()["person_id"]) == ("unmerge", absorb)
    assert identities(api, keep, analyst) == kept
    assert identities(api, absorb, analyst) == absorbed
    assert absorb in audit_targets(api, "identity.unmerged")

    again = api.client.post(f"/api/v1/persons/{keep}/unmerge", headers=key(analyst))
    assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM)
    assert again.json()["code"] == "identity.not_merged"
    never = multi_record_persons(api)[7]
    assert (
        api.client.post(
            f"/api/v1/persons/{never}/unmerge", json={"event_id": event["id"]}, headers=key(analyst)
        ).json()["code"]
        == "identity.not_merged"
    )


def test_an_unmerge_can_be_undone_once(api: Api, analyst: dict[str, str]) -> None:
    keep, absorb = multi_record_persons(api)[5:7]
    body = {"absorb": absorb, "reason": "test"}
    assert api.client.post(
        f"/api/v1/persons/{keep}/merge", json=body, headers=key(analyst)
    ).is_success
    together = identities(api, keep, analyst)
    undo = api.client.post(
        f"/api/v1/persons/{keep}/unmerge", json={"event_id": None}, headers=key(analyst)
    ).json()
    remerged = api.client.post(
        f"/api/v1/identity/events/{undo['id']}/remerge", headers=key(analyst)
    )
    assert remerged.status_code == 200, remerged.text
    assert (remerged.json()["kind"], remerged.json()["person_id"]) == ("merge", keep)
    assert {r[:2] for r in identities(api, keep, analyst)} == {r[:2] for r in together}
    twice = api.client.post(f"/api/v1/identity/events/{undo['id']}/remerge", headers=key(analyst))
    assert (twice.status_code, twice.json()["code"]) == (409, "identity.already_undone")
    missing = api.client.post("/api/v1/identity/events/999999/remerge", headers=key(analyst))
    assert (missing.status_code, missing.json()["code"]) == (404, "identity.event_not_found")


def test_a_replayed_merge_acts_once(api: Api, analyst: dict[str, str]) -> None:
    keep, absorb = multi_record_persons(api)[3:5]
    headers = key(analyst)
    body = {"absorb": absorb, "reason": "retry"}
    events = _events(api.engine)
    first = api.client.post(f"/api/v1/persons/{keep}/merge", json=body, headers=headers)
    again = api.client.post(f"/api/v1/persons/{keep}/merge", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert _events(api.engine) == events + 1
    other = api.client.post(
        f"/api/v1/persons/{keep}/merge", json={**body, "reason": "else"}, headers=headers
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency.key_reused")
    keyless = api.client.post(f"/api/v1/persons/{keep}/unmerge", headers=analyst)
    assert (keyless.status_code, keyless.json()["code"]) == (422, "idempotency.key_required")
    assert _events(api.engine) == events + 1
    assert api.client.post(f"/api/v1/persons/{keep}/unmerge", headers=key(analyst)).is_success


def test_bad_requests_are_problems_and_change_nothing(api: Api, analyst: dict[str, str]) -> None:
    person = multi_record_persons(api)[0]
    before, events = records_by_person(api.engine), _events(api.engine)
    unknown = api.client.get("/api/v1/persons/PNOSUCHPERSON", headers=analyst)
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, PROBLEM)
    assert unknown.json()["code"] == "identity.person_not_found"
    for path, body, status, code in [
        (
            f"/persons/{person}/merge",
            {"absorb": person, "reason": "x"},
            409,
            "identity.same_person",
        ),
        (
            f"/persons/{person}/merge",
            {"absorb": "PNOSUCHPERSON", "reason": "x"},
            404,
            "identity.person_not_found",
        ),
        ("/persons/PNOSUCHPERSON/unmerge", None, 404, "identity.person_not_found"),
        (f"/persons/{person}/merge", {"absorb": person}, 422, "request.invalid"),
    ]:
        response = api.client.post(f"/api/v1{path}", json=body, headers=key(analyst))
        assert (response.status_code, response.json()["code"]) == (status, code), path
    assert records_by_person(api.engine) == before
    assert _events(api.engine) == events


def test_a_store_manager_sees_only_customers_of_their_stores(api: Api, home: Path) -> None:
    orders = persons_with_orders(home, api.engine)
    (person, store), _ = orders.most_common(1)[0]
    stores_of_person = {s for p, s in orders if p == person}
    elsewhere = sorted({s for _, s in orders} - stores_of_person)[0]
    _, mine = api.user("store_manager", stores=(store,))
    _, theirs = api.user("store_manager", stores=(elsewhere,))
    seen = api.client.get(f"/api/v1/persons/{person}", headers=mine)
    assert seen.status_code == 200, seen.text
    assert {o["store_id"] for o in seen.json()["orders"]} == {store}
    hidden = api.client.get(f"/api/v1/persons/{person}", headers=theirs)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "identity.person_not_found")
    assert api.client.get(f"/api/v1/persons/{person}/history", headers=theirs).status_code == 404
    found = api.client.get("/api/v1/persons", params={"q": person}, headers=mine).json()
    assert [h["person_id"] for h in found["data"]] == [person]
    assert api.client.get("/api/v1/persons", params={"q": person}, headers=theirs).json() == {
        "data": [],
        "count": 0,
    }
    other = next(p for p in multi_record_persons(api) if p != person)
    body = {"absorb": other, "reason": "x"}
    refused = api.client.post(f"/api/v1/persons/{person}/merge", json=body, headers=key(mine))
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.permission_denied")
    assert api.client.get("/api/v1/identity/review", headers=mine).status_code == 403


def test_calls_without_credentials_are_401(api: Api) -> None:
    person = multi_record_persons(api)[0]
    for method, path in [
        ("GET", f"/api/v1/persons/{person}"),
        ("GET", "/api/v1/persons?q=x"),
        ("GET", f"/api/v1/persons/{person}/history"),
        ("POST", f"/api/v1/persons/{person}/unmerge"),
        ("GET", "/api/v1/identity/review"),
    ]:
        response = api.client.request(method, path)
        assert (response.status_code, response.json()["code"]) == (
            401,
            "auth.missing_credentials",
        )


def test_review_pairs_are_approved_or_rejected_once(
    api: Api, home: Path, analyst: dict[str, str]
) -> None:
    _, marketer = api.user("marketer")
    assert api.client.get("/api/v1/identity/review", headers=marketer).status_code == 403
    listed = api.client.get("/api/v1/identity/review?limit=5", headers=analyst)
    assert listed.status_code == 200, listed.text
    items = listed.json()["data"]
    assert len(items) == 5 and all(i["status"] == "open" for i in items)
    assert [i["match_probability"] for i in items] == sorted(
        (i["match_probability"] for i in items), reverse=True
    )
    for item in items:
        for side in (item["left"], item["right"]):
            assert side["record"]["source_record_id"] == side["source_record_id"]
    records = {(s["source"], s["source_record_id"]) for i in items for s in (i["left"], i["right"])}
    assert_no_clear_phone(listed.text, clear_phones(home, records))
    first, second = items[0], items[1]
    approved = api.client.post(
        f"/api/v1/identity/review/{first['id']}/approve", headers=key(analyst)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["left"]["person_id"] == approved.json()["right"]["person_id"]
    rejected = api.client.post(
        f"/api/v1/identity/review/{second['id']}/reject", headers=key(analyst)
    )
    assert rejected.json()["status"] == "rejected"
    again = api.client.post(f"/api/v1/identity/review/{first['id']}/reject", headers=key(analyst))
    assert (again.status_code, again.json()["code"]) == (409, "identity.review_decided")
    assert {str(first["id"]), str(second["id"])} <= set(audit_targets(api, "identity.reviewed"))
    decided = api.client.get("/api/v1/identity/review?status=approved", headers=analyst).json()
    assert first["id"] in {i["id"] for i in decided["data"]}


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(identity_events)).scalar_one())
