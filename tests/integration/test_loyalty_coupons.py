"""Coupons on SQLite and PostgreSQL: templates, issuing within budget and per-person limits, checkout
checks, redemption, reversal, expiry, revocation, re-issue, audience issues and per-template stats.
Every test ends with each coupon's status equal to what its latest event says."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from pyroaring import BitMap
from sqlalchemy import Engine, func, select
from tests.integration.coupon_setup import (
    AGENT,
    ANALYST,
    MARKETER,
    NOW,
    events,
    ledger_disagreements,
    new_template,
    persons,
)
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.audience import saved
from newretail.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.loyalty.coupon_issue import dense_person_ids, issue_to_audience, issue_to_list
from newretail.loyalty.coupon_stats import template_stats
from newretail.loyalty.coupon_templates import (
    DEMO_TEMPLATES,
    create_template,
    ensure_demo_templates,
    get_template,
    list_templates,
    parse_draft,
    set_template_status,
)
from newretail.loyalty.coupons import (
    coupons_for_checkout,
    coupons_of,
    expire_due,
    get_coupon,
    issue,
    redeem,
    reissue,
    reverse_redemption,
    revoke,
)
from newretail.oltp.tables import audit_log, coupon_events, coupons
from newretail.tags.dense_ids import DenseIds

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _ledger_agrees(migrated_engine: Engine) -> object:
    yield
    assert ledger_disagreements(migrated_engine) == []


def audit_actions(database: Engine, target_id: str) -> list[str]:
    with database.connect() as conn:
        return list(
            conn.execute(
                select(audit_log.c.action)
                .where(audit_log.c.target_id == target_id)
                .order_by(audit_log.c.id)
            ).scalars()
        )


def issue_one(database: Engine, template_id: str, person: str, *, now: dt.datetime = NOW) -> str:
    with database.begin() as conn:
        result = issue(conn, template_id, [person], issue_key="test", actor="test", now=now)
    assert result.issued == 1
    return result.coupon_ids[0]


# --- templates ---------------------------------------------------------------------------------
def test_a_template_is_created_read_back_listed_and_audited(migrated_engine: Engine) -> None:
    template_id = new_template(
        migrated_engine,
        kind="free_item",
        amount_off_minor=None,
        threshold_minor=None,
        target_product_id="P002",
        scope={"channels": ["app"], "stores": ["S001"]},
        budget_total=100,
        per_person_limit=2,
    )
    with migrated_engine.connect() as conn:
        template = get_template(conn, template_id)
        assert template in list_templates(conn)
    assert (template.kind, template.status, template.issued_count) == ("free_item", "active", 0)
    assert template.target == {"product_id": "P002"}
    assert (template.target_product_id, template.target_category) == ("P002", None)
    assert (template.scope.channels, template.scope.stores) == (["app"], ["S001"])
    assert (template.budget_total, template.per_person_limit, template.created_by) == (
        100,
        2,
        "user:1",
    )
    assert audit_actions(migrated_engine, template_id) == ["coupon.template_created"]


def test_creating_needs_loyalty_manage_and_a_fresh_id(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    draft = parse_draft(
        {
            "id": template_id,
            "name": "x",
            "name_en": "x",
            "kind": "size_upgrade",
            "currency": "CNY",
            "valid_days": 1,
        }
    )
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        create_template(conn, draft, actor=AGENT, now=NOW)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        create_template(conn, draft, actor=MARKETER, now=NOW)
    assert (caught.value.code, caught.value.field) == ("coupon_template.exists", "id")
    with migrated_engine.connect() as conn:
        assert get_template(conn, template_id).kind == "amount_off"
    with pytest.raises(NotFound), migrated_engine.connect() as conn:
        get_template(conn, "no_such_template")


def test_status_changes_are_audited_and_retiring_is_final(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    with migrated_engine.begin() as conn:
        assert set_template_status(conn, template_id, "paused", actor=MARKETER, now=NOW).status == (
            "paused"
        )
        # The same status again changes nothing and is not audited again.
        set_template_status(conn, template_id, "paused", actor=MARKETER, now=NOW)
        set_template_status(conn, template_id, "active", actor=MARKETER, now=NOW)
        set_template_status(conn, template_id, "retired", actor=MARKETER, now=NOW)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        set_template_status(conn, template_id, "active", actor=MARKETER, now=NOW)
    assert caught.value.code == "coupon_template.retired"
    with pytest.raises(InvalidInput) as bad, migrated_engine.begin() as conn:
        set_template_status(conn, template_id, "deleted", actor=MARKETER, now=NOW)
    assert (bad.value.code, bad.value.field) == ("coupon_template.bad_status", "status")
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        set_template_status(conn, template_id, "paused", actor=ANALYST, now=NOW)
    assert (
        audit_actions(migrated_engine, template_id)
        == ["coupon.template_created"] + ["coupon.template_updated"] * 3
    )


def test_demo_templates_are_ensured_once(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        first = ensure_demo_templates(conn, now=NOW)
        again = ensure_demo_templates(conn, now=NOW + DAY)
        templates = {template.id: template for template in list_templates(conn)}
    assert sorted(first) == sorted(draft.id for draft in DEMO_TEMPLATES)
    assert again == []
    free = templates["paid_monthly_free_drink"]
    assert (free.kind, free.target, free.valid_days) == ("free_item", {"category": "coffee"}, 31)
    weekday = templates["weekday_20pct"]
    assert (weekday.percent_off, weekday.cap_minor, weekday.scope.channels) == (
        20,
        1000,
        ["app", "mini_program"],
    )
    assert templates["welcome_5_off"].per_person_limit == 1
    assert templates["sg_welcome_1_50_off"].currency == "SGD"


# --- issuing -----------------------------------------------------------------------------------
def test_issuing_gives_each_person_one_coupon_and_a_retry_gives_nothing_more(
    migrated_engine: Engine,
) -> None:
    template_id = new_template(migrated_engine, valid_days=7)
    people = persons(3)
    with migrated_engine.begin() as conn:
        first = issue(
            conn, template_id, [*people, people[0]], issue_key="march", actor="job", now=NOW
        )
    assert (first.issued, first.already, first.over_budget, first.over_person_limit) == (3, 0, 0, 0)
    assert len(set(first.coupon_ids)) == 3
    with migrated_engine.begin() as conn:
        retry = issue(
            conn, template_id, people[::-1], issue_key="march", actor="job", now=NOW + DAY
        )
        assert get_template(conn, template_id).issued_count == 3
    assert (retry.issued, retry.already) == (0, 3)
    assert retry.coupon_ids == first.coupon_ids[::-1]
    with migrated_engine.connect() as conn:
        coupon = get_coupon(conn, first.coupon_ids[0])
    assert (coupon.person_id, coupon.status, coupon.issued_at) == (people[0], "issued", NOW)
    assert (coupon.valid_from, coupon.expires_at) == (NOW, NOW + 7 * DAY)
    assert events(migrated_engine, coupon.id) == [("issued", "issued")]


def test_a_window_caps_validity_and_a_closed_or_paused_template_issues_nothing(
    migrated_engine: Engine,
) -> None:
    until = NOW + 3 * DAY
    windowed = new_template(migrated_engine, valid_days=14, valid_until=until.isoformat())
    person = persons(1)[0]
    with migrated_engine.connect() as conn:
        assert get_coupon(conn, issue_one(migrated_engine, windowed, person)).expires_at == until
    with pytest.raises(Conflict) as ended, migrated_engine.begin() as conn:
        issue(conn, windowed, persons(1), issue_key="late", actor="job", now=until)
    assert ended.value.code == "coupon_template.ended"
    paused = new_template(migrated_engine)
    with migrated_engine.begin() as conn:
        set_template_status(conn, paused, "paused", actor=MARKETER, now=NOW)
    with pytest.raises(Conflict) as inactive, migrated_engine.begin() as conn:
        issue(conn, paused, persons(1), issue_key="k", actor="job", now=NOW)
    assert inactive.value.code == "coupon_template.inactive"
    with pytest.raises(NotFound), migrated_engine.begin() as conn:
        issue(conn, "no_such_template", persons(1), issue_key="k", actor="job", now=NOW)


@pytest.mark.parametrize(
    ("people", "key", "code"),
    [
        (["ok", ""], "k", "coupon.bad_person"),
        (["x" * 25], "k", "coupon.bad_person"),
        (["ok"], "", "coupon.bad_issue_key"),
        (["ok"], "k" * 161, "coupon.bad_issue_key"),
    ],
)
def test_bad_issue_input_writes_nothing(
    migrated_engine: Engine, people: list[str], key: str, code: str
) -> None:
    template_id = new_template(migrated_engine)
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        issue(conn, template_id, people, issue_key=key, actor="job", now=NOW)
    assert caught.value.code == code
    with migrated_engine.connect() as conn:
        assert get_template(conn, template_id).issued_count == 0


def test_the_budget_is_first_come_first_served(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, budget_total=3)
    people = persons(6)
    with migrated_engine.begin() as conn:
        first = issue(conn, template_id, people[:5], issue_key="a", actor="job", now=NOW)
        second = issue(conn, template_id, people[5:], issue_key="a", actor="job", now=NOW)
        assert get_template(conn, template_id).issued_count == 3
    assert (first.issued, first.over_budget, len(first.coupon_ids)) == (3, 2, 3)
    assert (second.issued, second.over_budget) == (0, 1)
    with migrated_engine.connect() as conn:
        holders = {get_coupon(conn, c).person_id for c in first.coupon_ids}
    assert holders == set(people[:3])


def test_the_per_person_limit_counts_every_coupon_of_the_template(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, per_person_limit=1, budget_total=10)
    alice, bob, carol = persons(3)
    with migrated_engine.begin() as conn:
        issue(conn, template_id, [alice, bob], issue_key="welcome", actor="job", now=NOW)
        result = issue(conn, template_id, [alice, carol], issue_key="promo", actor="job", now=NOW)
    assert (result.issued, result.over_person_limit, result.already) == (1, 1, 0)
    with migrated_engine.connect() as conn:
        assert [c.template_id for c in coupons_of(conn, alice)] == [template_id]
        assert len(coupons_of(conn, carol)) == 1


def test_marketers_issue_to_a_list_audited(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        issue_to_list(conn, template_id, persons(2), issue_key="l", actor=AGENT, now=NOW)
    with migrated_engine.begin() as conn:
        result = issue_to_list(
            conn, template_id, persons(2), issue_key="l", actor=MARKETER, now=NOW
        )
    assert result.issued == 2
    assert audit_actions(migrated_engine, template_id)[-1] == "coupon.issued"


def test_an_audience_snapshot_is_issued_to_its_members_once(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    people = persons(5)
    dense = DenseIds.empty()
    ids = dense.assign(pa.array(["someone_else", *people]))
    dense.forget(pa.array([people[4]]))  # erased since the snapshot: left out
    draft = saved.AudienceDraft(
        name="coffee lovers",
        description="",
        entity="person",
        expression={"tag": "x", "op": "=", "value": 1},
        expression_text="x = 1",
    )
    with migrated_engine.begin() as conn:
        audience = saved.create_audience(conn, draft, created_by="user:1", now=NOW)
        snapshot = saved.save_snapshot(
            conn,
            audience.id,
            label="march",
            members=BitMap(ids[1:].tolist()),
            index_version=1,
            as_of=NOW.date(),
            created_by="user:1",
            now=NOW,
        )

    def keys(members: BitMap) -> list[str]:
        # What the person index's ``keys`` does: forgotten (erased) ids name no one.
        return [str(key) for key in dense.keys_of(members).drop_null().to_pylist()]

    person_ids_of = dense_person_ids(keys)
    with migrated_engine.begin() as conn:
        first = issue_to_audience(
            conn, template_id, snapshot.id, person_ids_of, actor=MARKETER, now=NOW
        )
        again = issue_to_audience(
            conn, template_id, snapshot.id, person_ids_of, actor=MARKETER, now=NOW
        )
        holders = sorted(get_coupon(conn, c).person_id for c in first.coupon_ids)
    assert (first.issued, again.issued, again.already) == (4, 0, 4)
    assert holders == sorted(people[:4])
    with pytest.raises(NotFound), migrated_engine.begin() as conn:
        issue_to_audience(conn, template_id, "snap_missing", person_ids_of, actor=MARKETER, now=NOW)


def test_a_large_issue_is_batched_and_exact(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, budget_total=12_000)
    people = persons(12_500)
    with migrated_engine.begin() as conn:
        result = issue(conn, template_id, people, issue_key="big", actor="job", now=NOW)
        again = issue(conn, template_id, people, issue_key="big", actor="job", now=NOW)
        stored = conn.execute(
            select(func.count()).select_from(coupons).where(coupons.c.template_id == template_id)
        ).scalar_one()
    assert (result.issued, result.over_budget, stored) == (12_000, 500, 12_000)
    assert (again.issued, again.already, again.over_budget) == (0, 12_000, 500)
    assert again.coupon_ids == result.coupon_ids


# --- checkout and redemption -------------------------------------------------------------------
def test_checkout_returns_usable_coupons_with_their_templates(migrated_engine: Engine) -> None:
    first_template = new_template(migrated_engine)
    second_template = new_template(
        migrated_engine,
        kind="size_upgrade",
        amount_off_minor=None,
        threshold_minor=None,
        stacks_with_tier=False,
    )
    person = persons(1)[0]
    a = issue_one(migrated_engine, first_template, person)
    b = issue_one(migrated_engine, second_template, person)
    with migrated_engine.connect() as conn:
        chosen = coupons_for_checkout(conn, [b, a], person_id=person, now=NOW + DAY)
        assert coupons_for_checkout(conn, [], person_id=person, now=NOW) == []
    assert [(c.id, t.id) for c, t in chosen] == [(b, second_template), (a, first_template)]
    assert chosen[0][1].stacks_with_tier is False


def test_checkout_refuses_each_unusable_coupon_by_position(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=7)
    later = new_template(migrated_engine, valid_from=(NOW + 5 * DAY).isoformat(), valid_days=7)
    person, other = persons(2)
    good = issue_one(migrated_engine, template_id, person)
    with migrated_engine.begin() as conn:
        used = issue(conn, template_id, [person], issue_key="used", actor="t", now=NOW).coupon_ids[
            0
        ]
        revoked = issue(
            conn, template_id, [person], issue_key="rev", actor="t", now=NOW
        ).coupon_ids[0]
        expired = issue(
            conn, template_id, [person], issue_key="exp", actor="t", now=NOW - 30 * DAY
        ).coupon_ids[0]
        redeem(
            conn, used, person_id=person, order_id="o-used", discount_minor=100, actor="t", now=NOW
        )
        revoke(conn, revoked, actor=MARKETER, now=NOW)
        expire_due(conn, now=NOW)
    foreign = issue_one(migrated_engine, template_id, other)
    early = issue_one(migrated_engine, later, person)
    paused = new_template(migrated_engine)
    inactive = issue_one(migrated_engine, paused, person)
    with migrated_engine.begin() as conn:
        set_template_status(conn, paused, "paused", actor=MARKETER, now=NOW)
    cases = {
        "missing-code": "coupon.unknown",
        foreign: "coupon.foreign",
        used: "coupon.used",
        revoked: "coupon.revoked",
        expired: "coupon.expired",
        early: "coupon.not_yet_valid",
        inactive: "coupon.template_inactive",
    }
    for coupon_id, code in cases.items():
        with pytest.raises(InvalidInput) as caught, migrated_engine.connect() as conn:
            coupons_for_checkout(conn, [good, coupon_id], person_id=person, now=NOW + DAY)
        assert (caught.value.code, caught.value.field) == (code, "coupons[1]"), coupon_id
    # Past its expiry a coupon is refused even before the expiry job has run.
    with pytest.raises(InvalidInput) as late, migrated_engine.connect() as conn:
        coupons_for_checkout(conn, [good], person_id=person, now=NOW + 7 * DAY)
    assert (late.value.code, late.value.field) == ("coupon.expired", "coupons[0]")
    with pytest.raises(InvalidInput) as twice, migrated_engine.connect() as conn:
        coupons_for_checkout(conn, [good, good], person_id=person, now=NOW)
    assert (twice.value.code, twice.value.field) == ("coupon.duplicate", "coupons[1]")


def test_a_coupon_is_redeemed_once(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    person, other = persons(2)
    coupon_id = issue_one(migrated_engine, template_id, person)
    at = NOW + DAY
    with migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-1",
            discount_minor=1000,
            actor="pos",
            now=at,
        )
        # The same order again (a retried placement) changes nothing.
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-1",
            discount_minor=1000,
            actor="pos",
            now=at,
        )
    with pytest.raises(Conflict) as used, migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-2",
            discount_minor=1000,
            actor="pos",
            now=at,
        )
    assert used.value.code == "coupon.used"
    with pytest.raises(Conflict) as foreign, migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=other,
            order_id="o-3",
            discount_minor=1000,
            actor="pos",
            now=at,
        )
    assert foreign.value.code == "coupon.foreign"
    with migrated_engine.connect() as conn:
        coupon = get_coupon(conn, coupon_id)
    assert (coupon.status, coupon.order_id, coupon.redeemed_at, coupon.discount_minor) == (
        "redeemed",
        "o-1",
        at,
        1000,
    )
    assert events(migrated_engine, coupon_id) == [
        ("issued", "issued"),
        ("redeemed", "redeemed:o-1"),
    ]


def test_redeeming_refuses_expired_unknown_and_negative(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=1)
    person = persons(1)[0]
    coupon_id = issue_one(migrated_engine, template_id, person)
    with pytest.raises(Conflict) as expired, migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o",
            discount_minor=1,
            actor="a",
            now=NOW + DAY,
        )
    assert expired.value.code == "coupon.expired"
    with pytest.raises(NotFound), migrated_engine.begin() as conn:
        redeem(
            conn, "NOSUCHCODE", person_id=person, order_id="o", discount_minor=1, actor="a", now=NOW
        )
    with pytest.raises(InvalidInput), migrated_engine.begin() as conn:
        redeem(
            conn, coupon_id, person_id=person, order_id="o", discount_minor=-1, actor="a", now=NOW
        )
    with migrated_engine.connect() as conn:
        assert get_coupon(conn, coupon_id).status == "issued"


def test_a_reversal_gives_the_coupon_back_once(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=7)
    person = persons(1)[0]
    coupon_id = issue_one(migrated_engine, template_id, person)
    with migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-9",
            discount_minor=800,
            actor="app",
            now=NOW,
        )
        back = reverse_redemption(
            conn, coupon_id, order_id="o-9", natural_key="r1", actor="app", now=NOW + DAY
        )
        again = reverse_redemption(
            conn, coupon_id, order_id="o-9", natural_key="r1", actor="app", now=NOW + DAY
        )
    assert back == again
    assert (back.status, back.order_id, back.redeemed_at, back.discount_minor) == (
        "issued",
        None,
        None,
        None,
    )
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        reverse_redemption(conn, coupon_id, order_id="o-9", natural_key="r2", actor="app", now=NOW)
    assert caught.value.code == "coupon.not_redeemed"
    # Usable again, on another order.
    with migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-10",
            discount_minor=800,
            actor="app",
            now=NOW + DAY,
        )
    assert [kind for kind, _ in events(migrated_engine, coupon_id)] == [
        "issued",
        "redeemed",
        "reversed",
        "redeemed",
    ]
    assert events(migrated_engine, coupon_id)[2] == ("reversed", "reversed:o-9:r1")


def test_a_long_reversal_key_is_hashed_to_fit_and_still_replays(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    person = persons(1)[0]
    coupon_id = issue_one(migrated_engine, template_id, person)
    order_id, long_key = "ord_" + "0" * 36, "refund:" + "k" * 128
    with migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id=order_id,
            discount_minor=1,
            actor="a",
            now=NOW,
        )
        reverse_redemption(
            conn, coupon_id, order_id=order_id, natural_key=long_key, actor="a", now=NOW
        )
        again = reverse_redemption(
            conn, coupon_id, order_id=order_id, natural_key=long_key, actor="a", now=NOW
        )
    assert again.status == "issued"
    kind, key = events(migrated_engine, coupon_id)[-1]
    assert kind == "reversed"
    assert key.startswith(f"reversed:{order_id}:sha256:")
    assert len(key) <= 160


def test_a_reversal_after_the_expiry_leaves_the_coupon_expired(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=7)
    person = persons(1)[0]
    coupon_id = issue_one(migrated_engine, template_id, person)
    with migrated_engine.begin() as conn:
        redeem(
            conn,
            coupon_id,
            person_id=person,
            order_id="o-1",
            discount_minor=500,
            actor="app",
            now=NOW,
        )
        back = reverse_redemption(
            conn, coupon_id, order_id="o-1", natural_key="r", actor="app", now=NOW + 8 * DAY
        )
        expire_due(conn, now=NOW + 9 * DAY)  # already expired: nothing more happens to it
    assert (back.status, back.order_id) == ("expired", None)
    assert [kind for kind, _ in events(migrated_engine, coupon_id)] == [
        "issued",
        "redeemed",
        "reversed",
        "expired",
    ]


def test_expiry_expires_due_coupons_once(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=2)
    people = persons(3)
    with migrated_engine.begin() as conn:
        ids = issue(conn, template_id, people, issue_key="e", actor="job", now=NOW).coupon_ids
        redeem(
            conn, ids[0], person_id=people[0], order_id="o", discount_minor=1, actor="a", now=NOW
        )
        expire_due(conn, now=NOW + DAY)
        statuses = [get_coupon(conn, c).status for c in ids]
    assert statuses == ["redeemed", "issued", "issued"]
    with migrated_engine.begin() as conn:
        expire_due(conn, now=NOW + 2 * DAY)
        assert expire_due(conn, now=NOW + 2 * DAY) == 0
        statuses = [get_coupon(conn, c).status for c in ids]
        expired_events = conn.execute(
            select(func.count())
            .select_from(coupon_events)
            .where(coupon_events.c.coupon_id.in_(ids), coupon_events.c.kind == "expired")
        ).scalar_one()
    assert statuses == ["redeemed", "expired", "expired"]
    assert expired_events == 2
    assert events(migrated_engine, ids[1])[-1] == ("expired", "expired")


# --- revoke, re-issue, listing, stats ----------------------------------------------------------
def test_revoking_withdraws_an_unused_coupon(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    person = persons(1)[0]
    coupon_id = issue_one(migrated_engine, template_id, person)
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        revoke(conn, coupon_id, actor=AGENT, now=NOW)
    with migrated_engine.begin() as conn:
        assert revoke(conn, coupon_id, actor=MARKETER, now=NOW).status == "revoked"
        assert revoke(conn, coupon_id, actor=MARKETER, now=NOW).status == "revoked"
    assert audit_actions(migrated_engine, coupon_id) == ["coupon.revoked"]
    assert events(migrated_engine, coupon_id)[-1] == ("revoked", "revoked")
    used = issue_one(migrated_engine, template_id, persons(1)[0])
    with migrated_engine.begin() as conn:
        holder = get_coupon(conn, used).person_id
        redeem(conn, used, person_id=holder, order_id="o", discount_minor=1, actor="a", now=NOW)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        revoke(conn, used, actor=MARKETER, now=NOW)
    assert caught.value.code == "coupon.used"


def test_a_reissue_is_a_fresh_coupon_once_outside_the_person_limit(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=7, per_person_limit=1, budget_total=2)
    person = persons(1)[0]
    old = issue_one(migrated_engine, template_id, person)
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        reissue(conn, old, actor=MARKETER, reason="lost", now=NOW)
    with pytest.raises(InvalidInput) as no_reason, migrated_engine.begin() as conn:
        reissue(conn, old, actor=AGENT, reason="  ", now=NOW)
    assert no_reason.value.code == "coupon.bad_reason"
    later = NOW + 10 * DAY
    with migrated_engine.begin() as conn:
        expire_due(conn, now=later)
        new = reissue(conn, old, actor=AGENT, reason="expired while abroad", now=later)
        same = reissue(conn, old, actor=AGENT, reason="expired while abroad", now=later + DAY)
        assert get_template(conn, template_id).issued_count == 2
        assert get_coupon(conn, old).status == "expired"
    assert new == same
    assert new.id != old
    assert (new.person_id, new.template_id, new.status) == (person, template_id, "issued")
    assert (new.valid_from, new.expires_at) == (later, later + 7 * DAY)
    assert audit_actions(migrated_engine, old) == ["coupon.reissued"]
    # The budget of two is spent: a re-issue of the replacement is refused.
    with pytest.raises(Conflict) as spent, migrated_engine.begin() as conn:
        reissue(conn, new.id, actor=AGENT, reason="again", now=later)
    assert spent.value.code == "coupon_template.budget_exhausted"


def test_a_redeemed_or_revoked_coupon_is_not_reissued(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    used, withdrawn = (issue_one(migrated_engine, template_id, p) for p in persons(2))
    with migrated_engine.begin() as conn:
        holder = get_coupon(conn, used).person_id
        redeem(conn, used, person_id=holder, order_id="o", discount_minor=1, actor="a", now=NOW)
        revoke(conn, withdrawn, actor=MARKETER, now=NOW)
    for code in (used, withdrawn):
        with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
            reissue(conn, code, actor=AGENT, reason="lost", now=NOW)
        assert caught.value.code == "coupon.not_reissuable"
    with migrated_engine.connect() as conn:
        assert get_template(conn, template_id).issued_count == 2, "nothing was issued"


def test_coupons_of_a_person_newest_first_and_by_status(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine)
    person = persons(1)[0]
    first = issue_one(migrated_engine, template_id, person)
    with migrated_engine.begin() as conn:
        second = issue(
            conn, template_id, [person], issue_key="2", actor="t", now=NOW + DAY
        ).coupon_ids[0]
        redeem(
            conn, first, person_id=person, order_id="o", discount_minor=5, actor="a", now=NOW + DAY
        )
        assert [c.id for c in coupons_of(conn, person)] == [second, first]
        assert [c.id for c in coupons_of(conn, person, status="issued")] == [second]
    with pytest.raises(InvalidInput), migrated_engine.connect() as conn:
        coupons_of(conn, person, status="lost")


def test_template_stats_count_each_state_and_the_cost(migrated_engine: Engine) -> None:
    template_id = new_template(migrated_engine, valid_days=3)
    empty = new_template(migrated_engine)
    people = persons(5)
    with migrated_engine.begin() as conn:
        ids = issue(conn, template_id, people, issue_key="s", actor="job", now=NOW).coupon_ids
        redeem(
            conn,
            ids[0],
            person_id=people[0],
            order_id="o1",
            discount_minor=1000,
            actor="a",
            now=NOW,
        )
        redeem(
            conn, ids[1], person_id=people[1], order_id="o2", discount_minor=700, actor="a", now=NOW
        )
        revoke(conn, ids[2], actor=MARKETER, now=NOW)
        expire_due(conn, now=NOW + 3 * DAY)
        stats = {row.template_id: row for row in template_stats(conn)}
    row = stats[template_id]
    assert (
        row.issued,
        row.outstanding,
        row.redeemed,
        row.expired,
        row.revoked,
        row.cost_minor,
    ) == (
        5,
        0,
        2,
        2,
        1,
        1700,
    )
    assert isinstance(row.cost_minor, int)
    assert (stats[empty].issued, stats[empty].cost_minor) == (0, 0)
