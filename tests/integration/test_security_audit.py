"""The audit log: an entry for each audited action, none holding a password, secret or PII, and the
console's filtered, paginated query."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Forbidden, InvalidInput
from newretail.oltp.tables import audit_log
from newretail.security import (
    Principal,
    Role,
    SessionPolicy,
    change_role,
    create_user,
    create_user_key,
    create_write_key,
    deactivate_user,
    list_audit,
    login,
    logout,
    record_export,
    revoke_key,
)

PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
WRONG = "Tr0ub4dor&3-not-it"
POLICY = SessionPolicy(max_age=dt.timedelta(hours=8), idle_timeout=dt.timedelta(minutes=30))
ADMIN = Principal.cli()
T0 = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def story(migrated_engine: Engine) -> dict[str, str]:
    """One of every audited action, a minute apart; returns the secrets the log must not hold."""
    address = f"a{uuid.uuid4().hex[:10]}@example.com"
    with migrated_engine.begin() as conn:
        user = create_user(
            conn, actor=ADMIN, email=address, role="marketer", password=PASSWORD, now=at(0)
        )
    with migrated_engine.begin() as conn:
        assert login(conn, email=address, password=WRONG, now=at(1), policy=POLICY) is None
        assert (
            login(conn, email="ghost@example.com", password=WRONG, now=at(2), policy=POLICY) is None
        )
        session = login(conn, email=address, password=PASSWORD, now=at(3), policy=POLICY)
        assert session is not None
        record_export(
            conn,
            principal=session.principal,
            export_id="exp-1",
            kind="audience",
            rows=120,
            at=at(4),
        )
        key = create_user_key(conn, actor=ADMIN, email=address, now=at(5))
        write_key = create_write_key(conn, actor=ADMIN, source="app", now=at(6))
        revoke_key(conn, actor=ADMIN, prefix=key.prefix, now=at(7))
        change_role(
            conn, actor=ADMIN, email=address, role="store_manager", stores=["S001"], now=at(8)
        )
        logout(conn, session.token, now=at(9))
        deactivate_user(conn, actor=ADMIN, email=address, now=at(10))
    return {
        "user_id": str(user.id),
        "password": PASSWORD,
        "wrong": WRONG,
        "session": session.token,
        "key": key.key,
        "write_key": write_key.key,
    }


def entries(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log)
            .where(audit_log.c.at >= T0, audit_log.c.at <= at(10))
            .order_by(audit_log.c.id)
        )
        return [dict(row._mapping) for row in rows]


def test_each_audited_action_leaves_one_entry(
    migrated_engine: Engine, story: dict[str, str]
) -> None:
    actions = [(e["action"], e["actor"]) for e in entries(migrated_engine)]
    user_actor = f"user:{story['user_id']}"
    assert actions == [
        ("user.created", "cli"),
        ("auth.login_failed", "anonymous"),
        ("auth.login_failed", "anonymous"),
        ("auth.login", user_actor),
        ("export.created", user_actor),
        ("key.created", "cli"),
        ("key.created", "cli"),
        ("key.revoked", "cli"),
        ("user.role_changed", "cli"),
        ("auth.logout", user_actor),
        ("user.deactivated", "cli"),
    ]


def test_entries_say_enough_and_no_more(migrated_engine: Engine, story: dict[str, str]) -> None:
    log = entries(migrated_engine)
    failed_known, failed_unknown = log[1], log[2]
    assert failed_known["target_id"] == story["user_id"]
    assert failed_known["detail"] == {"reason": "bad_password", "email": None}
    assert failed_unknown["detail"] == {"reason": "unknown_user", "email": "g***@example.com"}
    assert log[8]["detail"] == {
        "from_role": "marketer",
        "to_role": "store_manager",
        "from_stores": [],
        "to_stores": ["S001"],
    }
    assert log[4]["detail"] == {"kind": "audience", "rows": 120}
    text = json.dumps([{k: str(v) for k, v in e.items()} for e in log])
    for name in ("password", "wrong", "session", "key", "write_key"):
        assert story[name] not in text, name
    assert "ghost@example.com" not in text


def test_the_console_query_filters_and_pages(
    migrated_engine: Engine, story: dict[str, str]
) -> None:
    with migrated_engine.connect() as conn:
        keys = list_audit(conn, ADMIN, actor="cli", action="key.created", since=T0)
        window = list_audit(conn, ADMIN, since=at(3), until=at(8))
        first = list_audit(conn, ADMIN, since=T0, until=at(11), limit=4)
        third = list_audit(conn, ADMIN, since=T0, until=at(11), limit=4, offset=8)
    assert keys.count == 2 and [e.at for e in keys.data] == [at(6), at(5)]
    assert [e.action for e in window.data] == [
        "key.revoked",
        "key.created",
        "key.created",
        "export.created",
        "auth.login",
    ]
    assert first.count == third.count == 11
    assert [e.at for e in first.data] == [at(10), at(9), at(8), at(7)]
    assert [e.at for e in third.data] == [at(2), at(1), at(0)]


def test_only_auditors_read_the_log(migrated_engine: Engine) -> None:
    with pytest.raises(Forbidden), migrated_engine.connect() as conn:
        list_audit(conn, Principal(user_id=9, role=Role.ANALYST))


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"limit": 0}, "audit.bad_limit"),
        ({"limit": 501}, "audit.bad_limit"),
        ({"offset": -1}, "audit.bad_offset"),
        ({"since": at(5), "until": at(1)}, "audit.bad_range"),
    ],
)
def test_bad_queries_are_refused(
    migrated_engine: Engine, kwargs: dict[str, object], code: str
) -> None:
    with pytest.raises(InvalidInput) as caught, migrated_engine.connect() as conn:
        list_audit(conn, ADMIN, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code
