"""API keys: shown once and stored only as a digest, verified, refused when expired, revoked or of the
wrong kind; key use is audited at most once a minute."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import dump
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from newretail.oltp.tables import api_keys, audit_log
from newretail.security import (
    Principal,
    Role,
    SourceWriter,
    authenticate_user_key,
    authenticate_write_key,
    create_user,
    create_user_key,
    create_write_key,
    deactivate_user,
    list_keys,
    revoke_key,
)

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ADMIN = Principal.cli()


def new_user(engine: Engine, *, role: str = "analyst", stores: tuple[str, ...] = ()) -> str:
    address = f"k{uuid.uuid4().hex[:10]}@example.com"
    with engine.begin() as conn:
        create_user(
            conn, actor=ADMIN, email=address, role=role, stores=stores, password="p" * 16, now=NOW
        )
    return address


def test_a_user_key_acts_as_its_user(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine, role="store_manager", stores=("S007",))
    with migrated_engine.begin() as conn:
        new = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
    with migrated_engine.begin() as conn:
        principal = authenticate_user_key(conn, new.key, now=NOW)
    assert principal.role == Role.STORE_MANAGER
    assert principal.store_scope == frozenset({"S007"})
    assert principal.key_prefix == new.prefix
    assert new.key.startswith(f"nru_{new.prefix}_")


def test_only_the_digest_is_stored_never_the_key(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine)
    with migrated_engine.begin() as conn:
        user_key = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
        write_key = create_write_key(conn, actor=ADMIN, source="app", now=NOW)
    with migrated_engine.begin() as conn:
        authenticate_user_key(conn, user_key.key, now=NOW)
        authenticate_write_key(conn, write_key.key, now=NOW)
    everything = dump(migrated_engine)
    for new in (user_key, write_key):
        secret = (
            new.key.rsplit("_", 1)[-1]
            if new.key.count("_") == 2
            else new.key[len(new.prefix) + 5 :]
        )
        assert new.key not in everything
        assert secret not in everything
        assert new.prefix in everything
    with migrated_engine.connect() as conn:
        listed = {k.prefix for k in list_keys(conn, actor=ADMIN)}
    assert {user_key.prefix, write_key.prefix} <= listed


def test_a_write_key_is_a_source_not_a_user(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        new = create_write_key(conn, actor=ADMIN, source="mini_program", now=NOW)
    with migrated_engine.begin() as conn:
        writer = authenticate_write_key(conn, new.key, now=NOW)
    assert writer == SourceWriter(source="mini_program", key_prefix=new.prefix)
    assert not hasattr(writer, "require")
    with pytest.raises(Unauthorized), migrated_engine.begin() as conn:
        authenticate_user_key(conn, new.key, now=NOW)


def test_a_user_key_is_not_a_write_key(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine)
    with migrated_engine.begin() as conn:
        new = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
    with pytest.raises(Unauthorized), migrated_engine.begin() as conn:
        authenticate_write_key(conn, new.key, now=NOW)


def test_wrong_and_malformed_keys_are_refused_alike(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine)
    with migrated_engine.begin() as conn:
        new = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
    tampered = new.key[:-2] + ("AA" if not new.key.endswith("AA") else "BB")
    for presented in (tampered, "nru_ffffffffffff_x", "garbage", "", f"nru_{new.prefix}_"):
        with pytest.raises(Unauthorized) as caught, migrated_engine.begin() as conn:
            authenticate_user_key(conn, presented, now=NOW)
        assert caught.value.code == "auth.invalid_key"
        assert caught.value.http_status == 401


def test_expired_keys_are_refused(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        new = create_write_key(
            conn, actor=ADMIN, source="app", now=NOW, expires_at=NOW + dt.timedelta(days=1)
        )
    with migrated_engine.begin() as conn:
        authenticate_write_key(conn, new.key, now=NOW + dt.timedelta(hours=23))
    with pytest.raises(Unauthorized) as caught, migrated_engine.begin() as conn:
        authenticate_write_key(conn, new.key, now=NOW + dt.timedelta(days=1))
    assert caught.value.code == "auth.key_expired"


def test_revoked_keys_are_refused_and_revoking_twice_is_harmless(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine)
    with migrated_engine.begin() as conn:
        new = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
    for _ in range(2):
        with migrated_engine.begin() as conn:
            revoke_key(conn, actor=ADMIN, prefix=new.prefix, now=NOW)
    with pytest.raises(Unauthorized) as caught, migrated_engine.begin() as conn:
        authenticate_user_key(conn, new.key, now=NOW)
    assert caught.value.code == "auth.key_revoked"
    with pytest.raises(NotFound), migrated_engine.begin() as conn:
        revoke_key(conn, actor=ADMIN, prefix="000000000000", now=NOW)


def test_deactivating_a_user_revokes_its_keys(migrated_engine: Engine) -> None:
    address = new_user(migrated_engine)
    with migrated_engine.begin() as conn:
        new = create_user_key(conn, actor=ADMIN, email=address, now=NOW)
        deactivate_user(conn, actor=ADMIN, email=address, now=NOW)
    with pytest.raises(Unauthorized), migrated_engine.begin() as conn:
        authenticate_user_key(conn, new.key, now=NOW)


def test_key_use_is_recorded_at_most_once_a_minute(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        new = create_write_key(conn, actor=ADMIN, source="app", now=NOW)
    moments = [NOW + dt.timedelta(seconds=s) for s in (0, 10, 59, 60, 61, 125)]
    for moment in moments:
        with migrated_engine.begin() as conn:
            authenticate_write_key(conn, new.key, now=moment)
    with migrated_engine.connect() as conn:
        uses = conn.execute(
            select(audit_log.c.at, audit_log.c.actor).where(
                audit_log.c.action == "key.used", audit_log.c.target_id == new.prefix
            )
        ).all()
        last_used = conn.execute(
            select(api_keys.c.last_used_at).where(api_keys.c.prefix == new.prefix)
        ).scalar_one()
    assert sorted(at for at, _ in uses) == [moments[0], moments[3], moments[5]]
    assert {actor for _, actor in uses} == {"source:app"}
    assert last_used == moments[5]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("unknown_source", "keys.unknown_source"),
        ("past_expiry", "keys.bad_expiry"),
    ],
)
def test_bad_key_requests_are_refused(migrated_engine: Engine, call: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        if call == "unknown_source":
            create_write_key(conn, actor=ADMIN, source="fax", now=NOW)
        else:
            create_write_key(conn, actor=ADMIN, source="app", now=NOW, expires_at=NOW)
    assert caught.value.code == code


def test_only_key_managers_create_keys(migrated_engine: Engine) -> None:
    marketer = Principal(user_id=1, role=Role.MARKETER)
    with pytest.raises(Forbidden) as caught, migrated_engine.begin() as conn:
        create_write_key(conn, actor=marketer, source="app", now=NOW)
    assert str(caught.value) == "role marketer may not keys.manage"
