"""Schemes and memberships on both databases: schemes created, replaced and audited; enrolment once
per scheme and person however often it is asked; OneID resolution through links and merges."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.loyalty.demo_schemes import DEMO_SCHEMES, ensure_demo_schemes
from newretail.loyalty.memberships import (
    enrol,
    events_of,
    get_membership,
    membership_of,
    memberships_of,
    resolve_person,
)
from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import (
    create_scheme,
    get_scheme,
    list_schemes,
    scheme_for_channel,
    update_scheme,
)
from newretail.oltp.tables import audit_log, identity_links, identity_persons, memberships
from newretail.security import Principal, Role

NOW = dt.datetime(2025, 6, 1, 2, 30, tzinfo=dt.UTC)
MARKETER = Principal(user_id=7, role=Role.MARKETER)


@pytest.fixture
def conn(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction rolled back after the test, so tests do not see each other."""
    with migrated_engine.begin() as setup:
        ensure_demo_schemes(setup, now=NOW)
    with migrated_engine.connect() as conn, conn.begin() as transaction:
        yield conn
        transaction.rollback()


def person() -> str:
    return f"P{uuid.uuid4().hex[:12]}"


def tea_club(**change: object) -> SchemeDraft:
    data = DEMO_SCHEMES[0].model_dump(mode="json")
    data.update(id=f"tea_{uuid.uuid4().hex[:8]}", name="茶会员", name_en="Tea Club")
    # Tmall is the one channel the demo's free schemes leave free in CNY.
    data["rules"]["channels"] = ["tmall"]
    data.update(change)
    return SchemeDraft.model_validate(data)


def test_demo_schemes_are_created_once(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        ensure_demo_schemes(conn, now=NOW)
        assert ensure_demo_schemes(conn, now=NOW) == []
        ids = [s.id for s in list_schemes(conn)]
    assert {"coffee_club", "coffee_club_sg", "paid_annual"} <= set(ids)
    assert ids.index("coffee_club") < ids.index("paid_annual")  # free schemes first


def test_scheme_for_channel_picks_the_free_scheme_by_currency(conn: Connection) -> None:
    assert scheme_for_channel(conn, "app", currency="CNY").id == "coffee_club"  # type: ignore[union-attr]
    sg = scheme_for_channel(conn, "pos", currency="SGD")
    assert sg is not None and sg.id == "coffee_club_sg"
    assert scheme_for_channel(conn, "mini_program").id == "coffee_club"  # type: ignore[union-attr]
    assert scheme_for_channel(conn, "meituan") is None
    paid = get_scheme(conn, "paid_annual")
    assert paid.kind == "paid" and paid.rules.paid is not None
    assert paid.rules.paid.price_minor == 19_900


def test_create_and_update_are_audited(conn: Connection) -> None:
    draft = tea_club()
    created = create_scheme(conn, draft, actor=MARKETER, now=NOW)
    assert created.rules == draft.rules and created.active
    data = draft.model_dump(mode="json")
    data["rules"]["tiers"][1]["discount_percent"] = 10
    data["name_en"] = "Tea Club+"
    later = NOW + dt.timedelta(days=1)
    updated = update_scheme(
        conn, draft.id, SchemeDraft.model_validate(data), actor=MARKETER, now=later
    )
    assert updated.name_en == "Tea Club+"
    assert updated.rules.tiers[1].discount_percent == 10
    assert get_scheme(conn, draft.id) == updated
    actions = conn.execute(
        select(audit_log.c.action, audit_log.c.actor)
        .where(audit_log.c.target_id == draft.id)
        .order_by(audit_log.c.id)
    ).all()
    assert actions == [
        ("loyalty.scheme_created", "user:7"),
        ("loyalty.scheme_updated", "user:7"),
    ]


def test_only_loyalty_managers_change_schemes(conn: Connection) -> None:
    for role in (Role.ANALYST, Role.CHANNEL, Role.SERVICE_AGENT):
        with pytest.raises(Forbidden):
            create_scheme(conn, tea_club(), actor=Principal(user_id=3, role=role), now=NOW)
    assert create_scheme(conn, tea_club(), actor=Principal.cli(), now=NOW).kind == "free"


def test_scheme_conflicts(conn: Connection) -> None:
    draft = tea_club()
    create_scheme(conn, draft, actor=MARKETER, now=NOW)
    with pytest.raises(Conflict) as caught:
        create_scheme(conn, draft, actor=MARKETER, now=NOW)
    assert caught.value.code == "loyalty.scheme_exists"
    # A second CNY scheme on the app would leave checkout two schemes to pick from.
    data = tea_club().model_dump(mode="json")
    data["rules"]["channels"] = ["app", "tmall"]
    with pytest.raises(Conflict) as caught:
        create_scheme(conn, SchemeDraft.model_validate(data), actor=MARKETER, now=NOW)
    assert caught.value.code == "loyalty.channel_taken"
    # ...but an inactive one may be prepared alongside.
    data["active"] = False
    create_scheme(conn, SchemeDraft.model_validate(data), actor=MARKETER, now=NOW)
    for field, value, code in (
        ("currency", "SGD", "loyalty.currency_fixed"),
        ("id", "another_id", "loyalty.bad_scheme"),
    ):
        changed = draft.model_dump(mode="json")
        changed[field] = value
        with pytest.raises((Conflict, InvalidInput)) as failed:
            update_scheme(
                conn, draft.id, SchemeDraft.model_validate(changed), actor=MARKETER, now=NOW
            )
        assert failed.value.code == code
    with pytest.raises(NotFound):
        update_scheme(
            conn, "nope", draft.model_copy(update={"id": "nope"}), actor=MARKETER, now=NOW
        )


def test_a_tier_members_hold_cannot_be_dropped(conn: Connection) -> None:
    draft = tea_club()
    create_scheme(conn, draft, actor=MARKETER, now=NOW)
    member = enrol(conn, draft.id, person(), channel="tmall", actor="test", now=NOW)
    conn.execute(memberships.update().where(memberships.c.id == member.id).values(tier="gold"))
    data = draft.model_dump(mode="json")
    data["rules"]["tiers"] = [t for t in data["rules"]["tiers"] if t["id"] != "gold"]
    with pytest.raises(Conflict) as caught:
        update_scheme(conn, draft.id, SchemeDraft.model_validate(data), actor=MARKETER, now=NOW)
    assert caught.value.code == "loyalty.tier_in_use"
    data["rules"]["tiers"] = [t for t in draft.model_dump()["rules"]["tiers"] if t["id"] != "black"]
    update_scheme(conn, draft.id, SchemeDraft.model_validate(data), actor=MARKETER, now=NOW)


def test_enrol_is_idempotent(conn: Connection) -> None:
    who = person()
    first = enrol(conn, "coffee_club", who, channel="mini_program", actor="channel:mini", now=NOW)
    again = enrol(
        conn, "coffee_club", who, channel="pos", actor="pos", now=NOW + dt.timedelta(hours=1)
    )
    assert again == first
    assert first.tier == "green" and first.joined_channel == "mini_program"
    assert first.status == "active" and first.tier_since == NOW and first.joined_at == NOW
    assert get_membership(conn, first.id) == first
    assert membership_of(conn, "coffee_club", who) == first
    count = conn.execute(
        select(func.count()).select_from(memberships).where(memberships.c.person_id == who)
    ).scalar_one()
    assert count == 1
    [joined] = events_of(conn, first.id)
    assert (joined.kind, joined.natural_key, joined.actor) == (
        "joined",
        "joined",
        "channel:mini",
    )
    assert joined.detail == {"channel": "mini_program", "tier": "green"}
    sg = enrol(conn, "coffee_club_sg", who, channel="app", actor="app", now=NOW)
    assert [m.scheme_id for m in memberships_of(conn, who)] == ["coffee_club", "coffee_club_sg"]
    assert sg.id != first.id


def test_enrol_refuses_bad_input_writing_nothing(conn: Connection) -> None:
    who = person()
    cases: list[tuple[str, str, type[Exception], str]] = [
        ("coffee_club", "meituan", InvalidInput, "loyalty.channel_not_covered"),
        ("paid_annual", "app", InvalidInput, "loyalty.scheme_paid"),
        ("no_such_scheme", "app", NotFound, "loyalty.scheme_unknown"),
    ]
    for scheme_id, channel, error, code in cases:
        with pytest.raises(error) as caught:
            enrol(conn, scheme_id, who, channel=channel, actor="test", now=NOW)
        assert caught.value.code == code  # type: ignore[attr-defined]
    assert memberships_of(conn, who) == []
    closed = tea_club(active=False)
    create_scheme(conn, closed, actor=MARKETER, now=NOW)
    with pytest.raises(Conflict):
        enrol(conn, closed.id, who, channel="tmall", actor="test", now=NOW)
    with pytest.raises(NotFound) as caught_nf:
        get_membership(conn, 10**9)
    assert caught_nf.value.code == "membership.unknown"


def link(conn: Connection, source: str, record: str, person_id: str) -> None:
    conn.execute(
        insert(identity_links).values(
            source=source,
            source_record_id=record,
            person_id=person_id,
            reason_kind="identifier",
            reason="phone",
            origin="api",
            linked_at=NOW,
        )
    )


def add_person(conn: Connection, person_id: str, *, retired_into: str | None = None) -> None:
    conn.execute(
        insert(identity_persons).values(
            person_id=person_id,
            status="retired" if retired_into else "active",
            origin="batch",
            retired_into=retired_into,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def test_resolve_person_through_links_and_merges(conn: Connection) -> None:
    keep, merged, twice, only_linked = person(), person(), person(), person()
    card, old_card = f"card-{uuid.uuid4().hex[:8]}", f"card-{uuid.uuid4().hex[:8]}"
    add_person(conn, keep)
    add_person(conn, merged, retired_into=keep)
    add_person(conn, twice, retired_into=merged)  # merged into a person later merged again
    link(conn, "pos", card, keep)
    link(conn, "pos", old_card, twice)  # a stale link to a retired person
    link(conn, "app", "device-1" + card, only_linked)
    assert resolve_person(conn, person_id=keep) == keep
    assert resolve_person(conn, person_id=merged) == keep
    assert resolve_person(conn, person_id=twice) == keep
    assert resolve_person(conn, source="pos", source_record_id=card) == keep
    assert resolve_person(conn, source="pos", source_record_id=old_card) == keep
    assert resolve_person(conn, person_id=only_linked) == only_linked
    for kwargs in (
        {"person_id": "P-nobody"},
        {"source": "pos", "source_record_id": "card-nobody"},
        {"source": "app", "source_record_id": card},
    ):
        with pytest.raises(NotFound) as caught:
            resolve_person(conn, **kwargs)
        assert caught.value.code == "person.unknown"
    for kwargs in ({}, {"person_id": keep, "source": "pos"}, {"source": "pos"}):
        with pytest.raises(InvalidInput) as bad:
            resolve_person(conn, **kwargs)
        assert bad.value.code == "person.bad_reference"


def test_racing_enrolments_make_one_membership(migrated_engine: Engine) -> None:
    """Eight channels enrol one shopper at the same moment, each on its own connection."""
    with migrated_engine.begin() as setup:
        ensure_demo_schemes(setup, now=NOW)
    who = person()
    barrier = threading.Barrier(8)
    ids: list[int] = []
    errors: list[BaseException] = []

    def attempt(channel: str) -> None:
        try:
            barrier.wait()
            with migrated_engine.begin() as conn:
                ids.append(
                    enrol(conn, "coffee_club", who, channel=channel, actor=channel, now=NOW).id
                )
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    channels = ["app", "mini_program", "pos"] * 3
    threads = [threading.Thread(target=attempt, args=(c,)) for c in channels[:8]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 8 and len(set(ids)) == 1
    with migrated_engine.connect() as conn:
        assert [e.kind for e in events_of(conn, ids[0])] == ["joined"]
