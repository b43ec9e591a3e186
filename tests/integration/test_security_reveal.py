"""The PII reveal: denied without ``pii.reveal``, and when allowed, audited in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.config import Settings
from newretail.errors import Forbidden, InvalidInput
from newretail.oltp.tables import audit_log
from newretail.security import Principal, Role, reveal_pii
from newretail.security.pii import PiiProtector

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
PHONE = "+8613800138000"


def reveals(engine: Engine, person_id: str) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "pii.revealed", audit_log.c.target_id == person_id
            )
        )
        return [(actor, detail) for actor, detail in rows]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_non_admins_are_denied_and_nothing_is_written(
    migrated_engine: Engine, settings: Settings, role: Role
) -> None:
    protector = PiiProtector.from_settings(settings)
    stores = frozenset({"S001"}) if role == Role.STORE_MANAGER else frozenset()
    principal = Principal(user_id=5, role=role, stores=stores)
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        reveal_pii(
            conn,
            principal=principal,
            protector=protector,
            cipher=protector.encrypt(PHONE),
            person_id=f"P-{role}",
            field="phone",
            now=NOW,
        )
    assert reveals(migrated_engine, f"P-{role}") == []


def test_an_admin_sees_the_value_and_the_reveal_is_audited(
    migrated_engine: Engine, settings: Settings
) -> None:
    protector = PiiProtector.from_settings(settings)
    admin = Principal(user_id=1, role=Role.ADMIN)
    with migrated_engine.begin() as conn:
        value = reveal_pii(
            conn,
            principal=admin,
            protector=protector,
            cipher=protector.encrypt(PHONE),
            person_id="P-000042",
            field="phone",
            now=NOW,
        )
    assert value == PHONE
    assert reveals(migrated_engine, "P-000042") == [("user:1", {"field": "phone"})]
    with migrated_engine.connect() as conn:
        details = [str(d) for d in conn.execute(select(audit_log.c.detail)).scalars()]
    assert not any(PHONE[3:] in d for d in details)


def test_a_rolled_back_reveal_leaves_no_entry(migrated_engine: Engine, settings: Settings) -> None:
    protector = PiiProtector.from_settings(settings)
    admin = Principal(user_id=1, role=Role.ADMIN)
    with pytest.raises(RuntimeError), migrated_engine.begin() as conn:
        reveal_pii(
            conn,
            principal=admin,
            protector=protector,
            cipher=protector.encrypt(PHONE),
            person_id="P-rolled-back",
            field="phone",
            now=NOW,
        )
        raise RuntimeError("the response failed")
    assert reveals(migrated_engine, "P-rolled-back") == []


def test_a_value_under_another_key_is_refused(migrated_engine: Engine, settings: Settings) -> None:
    foreign = PiiProtector(bytes(32)).encrypt(PHONE)
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        reveal_pii(
            conn,
            principal=Principal(user_id=1, role=Role.ADMIN),
            protector=PiiProtector.from_settings(settings),
            cipher=foreign,
            person_id="P-foreign",
            field="phone",
            now=NOW,
        )
    assert caught.value.code == "pii.undecryptable"
