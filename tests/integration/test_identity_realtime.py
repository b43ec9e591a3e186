"""Real-time OneID on SQLite and PostgreSQL: resolve finds or creates one person (also under
concurrent calls), demoted values never link, imports are all-or-nothing, and the HTTP API
authenticates, refuses bad identifiers with problem+json and replays idempotent calls."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, insert, select, update
from tests.integration.databases import dump
from tests.integration.test_api_app import Api
from tests.integration.test_api_app import api as api
from tests.integration.test_api_app import database_url as database_url
from tests.integration.test_api_app import migrated_engine as migrated_engine

from newretail.errors import InvalidInput, NotFound
from newretail.identity.realtime import ImportResult, Resolution, import_members, resolve
from newretail.identity.records import api_records
from newretail.oltp.tables import (
    identity_api_records,
    identity_demoted,
    identity_links,
    identity_persons,
)
from newretail.security.pii import PiiProtector

PROTECTOR = PiiProtector(bytes(range(32)))
NOW = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
PROBLEM = "application/problem+json"
RESOLVE = "/api/v1/identity/resolve"


def _phone() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


def _token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def _resolve(engine: Engine, *identifiers: Mapping[str, object], create: bool = True) -> Resolution:
    with engine.begin() as conn:
        return resolve(conn, list(identifiers), protector=PROTECTOR, now=NOW, create=create)


def _phone_id(phone: str) -> dict[str, str]:
    return {"type": "phone", "value": phone}


def _links_of(engine: Engine, person_id: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        query = select(identity_links.c.source, identity_links.c.source_record_id).where(
            identity_links.c.person_id == person_id
        )
        return sorted((s, r) for s, r in conn.execute(query))


def _count(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


def test_unknown_identifiers_make_one_provisional_person_that_an_overlap_finds(
    migrated_engine: Engine,
) -> None:
    phone, unionid = _phone(), _token("un")
    first = _resolve(migrated_engine, _phone_id(phone), {"type": "unionid", "value": unionid})
    assert (first.created, first.status, first.matched_by, first.conflicts) == (
        True,
        "provisional",
        [],
        [],
    )
    assert re.fullmatch(r"P[A-Z2-7]{12}", first.person_id)
    # Without a record id the record is the api source's, keyed by the strongest identifier.
    assert _links_of(migrated_engine, first.person_id) == [("api", f"unionid:{unionid}")]
    email = f"{_token('m')}@example.com"
    again = _resolve(
        migrated_engine, {"type": "email", "value": email}, {"type": "unionid", "value": unionid}
    )
    assert (again.person_id, again.created, again.matched_by) == (
        first.person_id,
        False,
        ["unionid"],
    )
    assert _resolve(migrated_engine, _phone_id(phone)).person_id == first.person_id
    with migrated_engine.connect() as conn:
        person = conn.execute(
            select(identity_persons).where(identity_persons.c.person_id == first.person_id)
        ).one()
        # The batch reads what resolve stored as an ordinary identity record.
        stored = api_records(conn).to_pylist()
    assert (person.status, person.origin) == ("provisional", "resolve")
    mine = next(r for r in stored if r["source_record_id"] == f"unionid:{unionid}")
    assert mine["phone_hash"] == PROTECTOR.hash("+86" + phone)
    assert mine["phone_masked"] == phone[:3] + "****" + phone[-4:]
    assert phone not in dump(migrated_engine)


def test_without_create_an_unknown_set_is_not_found_and_nothing_is_written(
    migrated_engine: Engine,
) -> None:
    links = _count(migrated_engine, identity_links)
    with pytest.raises(NotFound) as caught:
        _resolve(migrated_engine, _phone_id(_phone()), create=False)
    assert caught.value.code == "identity.no_person"
    assert _count(migrated_engine, identity_links) == links


def test_record_ids_get_their_own_records_and_unknown_ones_join_the_person_found(
    migrated_engine: Engine,
) -> None:
    phone, card, uid = _phone(), _token("C"), _token("U")
    first = _resolve(migrated_engine, {"type": "pos_card_no", "value": card}, _phone_id(phone))
    assert first.created
    assert _links_of(migrated_engine, first.person_id) == [("pos", card)]
    second = _resolve(migrated_engine, {"type": "app_uid", "value": uid}, _phone_id(phone))
    assert (second.person_id, second.created, second.matched_by) == (
        first.person_id,
        False,
        ["phone"],
    )
    assert _links_of(migrated_engine, first.person_id) == [("app", uid), ("pos", card)]
    alone = _resolve(migrated_engine, {"type": "app_uid", "value": uid})
    assert (alone.person_id, alone.matched_by) == (first.person_id, ["app_uid"])


def test_the_strongest_identifier_wins_and_the_others_are_conflicts(
    migrated_engine: Engine,
) -> None:
    phone, unionid = _phone(), _token("un")
    by_phone = _resolve(migrated_engine, _phone_id(phone)).person_id
    by_unionid = _resolve(migrated_engine, {"type": "unionid", "value": unionid}).person_id
    both = _resolve(migrated_engine, _phone_id(phone), {"type": "unionid", "value": unionid})
    assert (both.person_id, both.matched_by, both.conflicts) == (
        by_unionid,
        ["unionid"],
        [by_phone],
    )
    assert not both.created
    # A person merged away is followed to the one it was merged into.
    with migrated_engine.begin() as conn:
        conn.execute(
            update(identity_persons)
            .where(identity_persons.c.person_id == by_unionid)
            .values(status="retired", retired_into=by_phone)
        )
    merged = _resolve(migrated_engine, _phone_id(phone), {"type": "unionid", "value": unionid})
    assert (merged.person_id, merged.matched_by, merged.conflicts) == (
        by_phone,
        ["unionid", "phone"],
        [],
    )


def test_a_demoted_phone_does_not_link(migrated_engine: Engine) -> None:
    phone = _phone()
    family = _resolve(migrated_engine, _phone_id(phone)).person_id
    with migrated_engine.begin() as conn:
        conn.execute(
            insert(identity_demoted).values(
                kind="phone",
                value=PROTECTOR.hash("+86" + phone),
                reason="conflict",
                records=3,
                run_id=1,
            )
        )
    other = _resolve(migrated_engine, _phone_id(phone))
    assert other.created and other.person_id != family
    # Nothing may link through it: a third caller gets a person of its own too.
    third = _resolve(migrated_engine, _phone_id(phone))
    assert third.created and third.person_id not in (family, other.person_id)
    with pytest.raises(NotFound):
        _resolve(migrated_engine, _phone_id(phone), create=False)


@pytest.mark.parametrize(
    "orders",
    [
        pytest.param(False, id="phone-and-email"),
        pytest.param(True, id="two-record-ids-in-either-order"),
    ],
)
def test_concurrent_resolves_of_new_identifiers_make_one_person(
    migrated_engine: Engine, orders: bool
) -> None:
    phone, email = _phone(), f"{_token('c')}@example.com"
    card, uid = _token("C"), _token("U")
    callers = 6
    barrier = threading.Barrier(callers)
    results: list[Resolution] = []
    errors: list[BaseException] = []

    def call(i: int) -> None:
        identifiers: list[Mapping[str, object]] = [
            _phone_id(phone),
            {"type": "email", "value": email},
        ]
        if orders:
            records = [{"type": "pos_card_no", "value": card}, {"type": "app_uid", "value": uid}]
            identifiers = records[:: 1 if i % 2 else -1] + identifiers
        try:
            barrier.wait(timeout=10)
            results.append(_resolve(migrated_engine, *identifiers))
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    _run_threads(call, callers)
    assert errors == []
    assert len({r.person_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    person = results[0].person_id
    expected = (
        [("app", uid), ("pos", card)]
        if orders
        else [("api", f"phone:{PROTECTOR.hash('+86' + phone)}")]
    )
    assert _links_of(migrated_engine, person) == expected


def _run_threads(target: Callable[[int], None], n: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def _import(engine: Engine, source: str, members: Sequence[Mapping[str, object]]) -> ImportResult:
    with engine.begin() as conn:
        return import_members(conn, source, members, protector=PROTECTOR, now=NOW)


def test_an_import_with_one_bad_member_writes_nothing(migrated_engine: Engine) -> None:
    good = {"source_record_id": _token("E"), "phone": _phone()}
    before = (
        _count(migrated_engine, identity_api_records),
        _count(migrated_engine, identity_links),
    )
    cases = [
        ("erp", [good, {"source_record_id": _token("E"), "phone": "12"}], "members[1].phone"),
        (
            "erp",
            [good, {"source_record_id": good["source_record_id"]}],
            "members[1].source_record_id",
        ),
        ("tmall", [good], "source"),
        ("erp", [], "members"),
    ]
    for source, members, field in cases:
        with pytest.raises(InvalidInput) as caught:
            _import(migrated_engine, source, members)
        assert caught.value.field == field
    after = (_count(migrated_engine, identity_api_records), _count(migrated_engine, identity_links))
    assert after == before


def test_import_links_to_known_persons_makes_provisional_ones_and_updates(
    migrated_engine: Engine,
) -> None:
    known_phone, new_phone = _phone(), _phone()
    known = _resolve(migrated_engine, _phone_id(known_phone)).person_id
    ids = [_token("E") for _ in range(3)]
    members: list[Mapping[str, object]] = [
        {"source_record_id": ids[0], "phone": known_phone, "name": "李娜", "gender": "F"},
        {"source_record_id": ids[1], "phone": new_phone, "email": f"{_token('e')}@example.com"},
        {"source_record_id": ids[2], "phone": new_phone, "consent_sms": True},
    ]
    result = _import(migrated_engine, "erp", members)
    assert result == ImportResult(created=3, updated=0, linked=2, provisional=1)
    with migrated_engine.connect() as conn:
        links = {
            row.source_record_id: row
            for row in conn.execute(
                select(identity_links).where(identity_links.c.source_record_id.in_(ids))
            )
        }
    assert links[ids[0]].person_id == known
    assert (links[ids[0]].reason_kind, links[ids[0]].reason) == ("identifier", "phone")
    assert links[ids[1]].person_id == links[ids[2]].person_id != known
    # Whichever of the two came first got the provisional person; the other was linked to it.
    assert sorted(links[i].reason_kind for i in ids[1:]) == ["identifier", "single"]
    assert {links[i].origin for i in ids} == {"api"}
    # Sending a member again replaces its record and keeps its link and creation time.
    again = _import(migrated_engine, "erp", [{"source_record_id": ids[0], "name": "李 娜"}])
    assert again == ImportResult(created=0, updated=1, linked=0, provisional=0)
    with migrated_engine.connect() as conn:
        attributes = conn.execute(
            select(identity_api_records.c.attributes).where(
                identity_api_records.c.source_record_id == ids[0]
            )
        ).scalar_one()
    assert attributes["name"] == "李 娜" and attributes["created_at"] == NOW.isoformat()
    assert _links_of(migrated_engine, known) == sorted(
        [("api", f"phone:{PROTECTOR.hash('+86' + known_phone)}"), ("erp", ids[0])]
    )
    assert new_phone not in dump(migrated_engine)


# The HTTP API.


def _key() -> dict[str, str]:
    return {"Idempotency-Key": secrets.token_hex(8)}


def test_resolve_needs_credentials_and_the_permission(api: Api) -> None:
    body = {"identifiers": [_phone_id(_phone())]}
    response = api.client.post(RESOLVE, json=body, headers=_key())
    assert (response.status_code, response.headers["content-type"]) == (401, PROBLEM)
    _, analyst = api.user("analyst")
    response = api.client.post(RESOLVE, json=body, headers={**analyst, **_key()})
    assert (response.status_code, response.json()["code"]) == (403, "auth.permission_denied")
    # Looking up without creating is a read, which an analyst may do.
    lookup = {**body, "create": False}
    response = api.client.post(RESOLVE, json=lookup, headers={**analyst, **_key()})
    assert (response.status_code, response.json()["code"]) == (404, "identity.no_person")
    response = api.client.post("/api/v1/identity/members/erp", json={"members": []})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("identifiers", "code", "field"),
    [
        ([{"type": "phone", "value": "0755-1234"}], "identity.bad_phone", "identifiers[0].value"),
        (
            [{"type": "unionid", "value": "u1"}, {"type": "passport", "value": "E1"}],
            "identity.unknown_type",
            "identifiers[1].type",
        ),
    ],
)
def test_bad_identifiers_are_422_problems_and_write_nothing(
    api: Api, identifiers: list[dict[str, str]], code: str, field: str
) -> None:
    links, persons = _count(api.engine, identity_links), _count(api.engine, identity_persons)
    headers = {**api.admin, **_key()}
    response = api.client.post(RESOLVE, json={"identifiers": identifiers}, headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM)
    problem = response.json()
    assert (problem["code"], problem["errors"][0]["field"]) == (code, field)
    assert "0755" not in response.text
    assert (_count(api.engine, identity_links), _count(api.engine, identity_persons)) == (
        links,
        persons,
    )
    # The key was not spent on the refused call: a corrected request with it goes through.
    fixed = {"identifiers": [_phone_id(_phone())]}
    assert api.client.post(RESOLVE, json=fixed, headers=headers).status_code == 201


def test_resolve_is_idempotent_and_answers_201_only_when_it_created(api: Api) -> None:
    phone = _phone()
    body = {"identifiers": [_phone_id(phone), {"type": "pos_card_no", "value": _token("C")}]}
    headers = {**api.admin, **_key()}
    first = api.client.post(RESOLVE, json=body, headers=headers)
    replay = api.client.post(RESOLVE, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content and replay.headers["idempotent-replayed"] == "true"
    created = first.json()
    assert (created["status"], created["created"]) == ("provisional", True)
    assert phone not in first.text
    assert len(_links_of(api.engine, created["person_id"])) == 1
    other = {"identifiers": [_phone_id(phone)]}
    reused = api.client.post(RESOLVE, json=other, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency.key_reused")
    found = api.client.post(RESOLVE, json=other, headers={**api.admin, **_key()})
    assert found.status_code == 200
    assert found.json() == {**created, "created": False, "matched_by": ["phone"]}
    missing = api.client.post(RESOLVE, json=other, headers=api.admin)
    assert (missing.status_code, missing.json()["code"]) == (422, "idempotency.key_required")


def test_member_import_over_http(api: Api) -> None:
    phone, email = _phone(), f"{_token('h')}@example.com"
    ids = [_token("W"), _token("W")]
    members = [
        {"source_record_id": ids[0], "phone": phone, "email": email, "wechat_unionid": _token("u")},
        {"source_record_id": ids[1], "phone": phone},
    ]
    headers = {**api.admin, **_key()}
    url = "/api/v1/identity/members/wechat"
    response = api.client.post(url, json={"members": members}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "linked": 1, "provisional": 1}
    replay = api.client.post(url, json={"members": members}, headers=headers)
    assert replay.content == response.content and replay.headers["idempotent-replayed"] == "true"
    assert phone not in dump(api.engine) and email not in dump(api.engine)
    bad = [*members, {"source_record_id": _token("W"), "email": "nobody"}]
    records = _count(api.engine, identity_api_records)
    response = api.client.post(url, json={"members": bad}, headers={**api.admin, **_key()})
    assert (response.status_code, response.json()["code"]) == (422, "identity.bad_email")
    assert response.json()["errors"][0]["field"] == "members[2].email"
    assert _count(api.engine, identity_api_records) == records
    unknown = api.client.post(
        "/api/v1/identity/members/meituan",
        json={"members": members},
        headers={**api.admin, **_key()},
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "identity.unknown_source")
    too_many = {"members": [{"source_record_id": str(i)} for i in range(1001)]}
    response = api.client.post(url, json=too_many, headers={**api.admin, **_key()})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "members")
