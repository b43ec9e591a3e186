"""Console sessions: a token whose digest alone is stored, absolute expiry, idle timeout, a CSRF token
bound to the session, and logout."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import dump
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Forbidden, Unauthorized
from newretail.security import (
    NewSession,
    Principal,
    Role,
    SessionPolicy,
    check_csrf,
    create_user,
    deactivate_user,
    login,
    logout,
    resolve_session,
)

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
POLICY = SessionPolicy(max_age=dt.timedelta(hours=8), idle_timeout=dt.timedelta(minutes=30))
ADMIN = Principal.cli()


def signed_in(engine: Engine, *, role: str = "analyst") -> tuple[str, NewSession]:
    address = f"s{uuid.uuid4().hex[:10]}@example.com"
    with engine.begin() as conn:
        create_user(conn, actor=ADMIN, email=address, role=role, password=PASSWORD, now=NOW)
    with engine.begin() as conn:
        session = login(conn, email=address, password=PASSWORD, now=NOW, policy=POLICY)
    assert session is not None
    return address, session


def resolve(engine: Engine, token: str, at: dt.datetime) -> Principal:
    with engine.begin() as conn:
        return resolve_session(conn, token, now=at, policy=POLICY).principal


def test_a_session_resolves_to_its_user_and_only_its_digest_is_stored(
    migrated_engine: Engine,
) -> None:
    _, session = signed_in(migrated_engine, role="supply_planner")
    assert resolve(migrated_engine, session.token, NOW).role == Role.SUPPLY_PLANNER
    everything = dump(migrated_engine)
    assert session.token not in everything
    assert session.csrf_token not in everything


def test_idle_sessions_end(migrated_engine: Engine) -> None:
    _, session = signed_in(migrated_engine)
    # Activity every 20 minutes keeps the session alive well past one idle timeout...
    for minutes in (20, 40, 60):
        resolve(migrated_engine, session.token, NOW + dt.timedelta(minutes=minutes))
    # ...and 30 quiet minutes end it.
    with pytest.raises(Unauthorized) as caught:
        resolve(migrated_engine, session.token, NOW + dt.timedelta(minutes=90))
    assert caught.value.code == "auth.session_expired"


def test_sessions_end_at_their_maximum_age_however_active(migrated_engine: Engine) -> None:
    _, session = signed_in(migrated_engine)
    at = NOW
    while at < NOW + POLICY.max_age - dt.timedelta(minutes=20):
        at += dt.timedelta(minutes=20)
        resolve(migrated_engine, session.token, at)
    with pytest.raises(Unauthorized):
        resolve(migrated_engine, session.token, NOW + POLICY.max_age)


def test_logout_revokes(migrated_engine: Engine) -> None:
    _, session = signed_in(migrated_engine)
    with migrated_engine.begin() as conn:
        logout(conn, session.token, now=NOW)
        logout(conn, session.token, now=NOW)
    with pytest.raises(Unauthorized):
        resolve(migrated_engine, session.token, NOW)


def test_unknown_tokens_are_unauthorized(migrated_engine: Engine) -> None:
    with pytest.raises(Unauthorized) as caught:
        resolve(migrated_engine, "not-a-session", NOW)
    assert caught.value.code == "auth.no_session"


def test_deactivation_ends_sessions(migrated_engine: Engine) -> None:
    address, session = signed_in(migrated_engine)
    with migrated_engine.begin() as conn:
        deactivate_user(conn, actor=ADMIN, email=address, now=NOW)
    with pytest.raises(Unauthorized):
        resolve(migrated_engine, session.token, NOW)


def test_the_csrf_token_is_bound_to_its_session(migrated_engine: Engine) -> None:
    _, first = signed_in(migrated_engine)
    _, second = signed_in(migrated_engine)
    with migrated_engine.begin() as conn:
        live = resolve_session(conn, first.token, now=NOW, policy=POLICY)
    assert live.csrf_token == first.csrf_token
    check_csrf(first.token, first.csrf_token)
    for presented in (second.csrf_token, None, "", first.token):
        with pytest.raises(Forbidden) as caught:
            check_csrf(first.token, presented)
        assert caught.value.code == "auth.bad_csrf"
