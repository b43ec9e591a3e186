"""Users and roles: creation with a store scope, bad input refused with stable codes and nothing
written, role changes, deactivation, and password login."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Conflict, Forbidden, InvalidInput, NewRetailError
from newretail.oltp.tables import audit_log, user_stores, users
from newretail.security import (
    Principal,
    Role,
    SessionPolicy,
    change_role,
    create_user,
    deactivate_user,
    get_user,
    list_users,
    login,
)

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
POLICY = SessionPolicy(max_age=dt.timedelta(hours=12), idle_timeout=dt.timedelta(minutes=30))
ADMIN = Principal.cli()


def email() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.com"


def make(
    engine: Engine,
    *,
    role: str = "analyst",
    stores: tuple[str, ...] = (),
    address: str | None = None,
) -> str:
    address = address or email()
    with engine.begin() as conn:
        create_user(
            conn, actor=ADMIN, email=address, role=role, stores=stores, password=PASSWORD, now=NOW
        )
    return address


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (users, user_stores, audit_log)
        )


def test_a_store_manager_is_created_with_its_stores(migrated_engine: Engine) -> None:
    address = make(migrated_engine, role="store_manager", stores=("S002", "S001", "S001"))
    with migrated_engine.connect() as conn:
        user = get_user(conn, email=address.upper())
    assert (user.email, user.role, user.stores, user.active) == (
        address,
        Role.STORE_MANAGER,
        ("S001", "S002"),
        True,
    )


def test_chain_wide_roles_have_no_store_scope(migrated_engine: Engine) -> None:
    for role in ("admin", "analyst", "marketer", "supply_planner"):
        address = make(migrated_engine, role=role)
        with migrated_engine.connect() as conn:
            assert get_user(conn, email=address).stores == ()


@pytest.mark.parametrize(
    ("address", "role", "stores", "password", "code"),
    [
        ("not-an-email", "analyst", (), PASSWORD, "users.bad_email"),
        ("a@b", "analyst", (), PASSWORD, "users.bad_email"),
        ("x y@example.com", "analyst", (), PASSWORD, "users.bad_email"),
        (None, "superuser", (), PASSWORD, "users.unknown_role"),
        (None, "store_manager", (), PASSWORD, "users.scope_required"),
        (None, "analyst", ("S001",), PASSWORD, "users.scope_not_allowed"),
        (None, "store_manager", ("S 001; drop",), PASSWORD, "users.bad_store"),
        (None, "analyst", (), "short", "users.weak_password"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    migrated_engine: Engine,
    address: str | None,
    role: str,
    stores: tuple[str, ...],
    password: str,
    code: str,
) -> None:
    before = counts(migrated_engine)
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        create_user(
            conn,
            actor=ADMIN,
            email=address or email(),
            role=role,
            stores=stores,
            password=password,
            now=NOW,
        )
    assert caught.value.code == code
    assert counts(migrated_engine) == before


def test_a_duplicate_email_is_a_conflict_in_any_case(migrated_engine: Engine) -> None:
    address = make(migrated_engine)
    before = counts(migrated_engine)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        create_user(
            conn, actor=ADMIN, email=address.upper(), role="marketer", password=PASSWORD, now=NOW
        )
    assert caught.value.code == "users.duplicate_email"
    assert counts(migrated_engine) == before


def test_only_users_managers_may_create_users(migrated_engine: Engine) -> None:
    analyst = Principal(user_id=1, role=Role.ANALYST)
    with pytest.raises(Forbidden) as caught, migrated_engine.begin() as conn:
        create_user(conn, actor=analyst, email=email(), role="admin", password=PASSWORD, now=NOW)
    assert caught.value.code == "auth.permission_denied"
    assert caught.value.http_status == 403


def test_role_change_replaces_the_scope(migrated_engine: Engine) -> None:
    address = make(migrated_engine, role="store_manager", stores=("S001",))
    with migrated_engine.begin() as conn:
        changed = change_role(conn, actor=ADMIN, email=address, role="analyst", now=NOW)
    assert (changed.role, changed.stores) == (Role.ANALYST, ())
    with pytest.raises(InvalidInput), migrated_engine.begin() as conn:
        change_role(conn, actor=ADMIN, email=address, role="store_manager", now=NOW)
    with migrated_engine.connect() as conn:
        assert get_user(conn, email=address).role == Role.ANALYST


def test_password_login_right_and_wrong(migrated_engine: Engine) -> None:
    address = make(migrated_engine, role="marketer")
    with migrated_engine.begin() as conn:
        good = login(conn, email=address, password=PASSWORD, now=NOW, policy=POLICY)
        wrong = login(conn, email=address, password=PASSWORD + "!", now=NOW, policy=POLICY)
        unknown = login(conn, email=email(), password=PASSWORD, now=NOW, policy=POLICY)
        too_long = login(conn, email=address, password="x" * 5000, now=NOW, policy=POLICY)
    assert good is not None and good.principal.role == Role.MARKETER
    assert wrong is None and unknown is None and too_long is None


def test_the_password_is_stored_only_as_a_salted_scrypt_hash(migrated_engine: Engine) -> None:
    first, second = make(migrated_engine), make(migrated_engine)
    with migrated_engine.connect() as conn:
        rows = conn.execute(
            select(users.c.email, users.c.password_hash).where(users.c.email.in_([first, second]))
        )
        hashes = {row.email: row.password_hash for row in rows}
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes.values())
    assert hashes[first] != hashes[second]


def test_a_deactivated_user_cannot_log_in(migrated_engine: Engine) -> None:
    address = make(migrated_engine)
    with migrated_engine.begin() as conn:
        deactivate_user(conn, actor=ADMIN, email=address, now=NOW)
    with migrated_engine.begin() as conn:
        assert login(conn, email=address, password=PASSWORD, now=NOW, policy=POLICY) is None
        assert not get_user(conn, email=address).active
        assert address in [u.email for u in list_users(conn, actor=ADMIN)]


def test_unknown_user_is_not_found(migrated_engine: Engine) -> None:
    with pytest.raises(NewRetailError) as caught, migrated_engine.begin() as conn:
        change_role(conn, actor=ADMIN, email=email(), role="analyst", now=NOW)
    assert caught.value.code == "users.not_found"
