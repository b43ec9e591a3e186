"""The permission matrix and the principal's checks: pure, no database."""

from __future__ import annotations

import pytest

from newretail.errors import Forbidden, InvalidInput
from newretail.security import PERMISSIONS, Permission, Principal, Role, SourceWriter
from newretail.security.roles import parse_role


def test_every_role_has_an_entry_and_admin_has_everything() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)


@pytest.mark.parametrize(
    "permission",
    [Permission.PII_REVEAL, Permission.AUDIT_READ, Permission.USERS_MANAGE, Permission.KEYS_MANAGE],
)
def test_sensitive_permissions_are_admin_only(permission: Permission) -> None:
    assert [role for role in Role if permission in PERMISSIONS[role]] == [Role.ADMIN]


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (Role.ANALYST, Permission.EXPORTS_CREATE, Permission.CAMPAIGNS_WRITE),
        (Role.MARKETER, Permission.CAMPAIGNS_WRITE, Permission.SUPPLY_READ),
        (Role.SUPPLY_PLANNER, Permission.SUPPLY_WRITE, Permission.CUSTOMERS_READ),
        (Role.STORE_MANAGER, Permission.STORES_READ, Permission.EXPORTS_CREATE),
    ],
)
def test_require_follows_the_matrix(role: Role, allowed: Permission, denied: Permission) -> None:
    principal = Principal(user_id=1, role=role, stores=frozenset({"S001"}))
    principal.require(allowed)
    with pytest.raises(Forbidden) as caught:
        principal.require(denied)
    assert caught.value.code == "auth.permission_denied"
    assert caught.value.http_status == 403


def test_a_store_manager_is_held_to_its_stores() -> None:
    manager = Principal(user_id=2, role=Role.STORE_MANAGER, stores=frozenset({"S001", "S002"}))
    manager.require_store("S002")
    with pytest.raises(Forbidden) as caught:
        manager.require_store("S003")
    assert caught.value.code == "auth.store_denied"
    assert manager.store_scope == frozenset({"S001", "S002"})


def test_chain_wide_roles_see_every_store() -> None:
    analyst = Principal(user_id=3, role=Role.ANALYST)
    analyst.require_store("S999")
    assert analyst.store_scope is None


def test_actor_labels() -> None:
    assert Principal(user_id=7, role=Role.ANALYST).actor == "user:7"
    assert Principal.cli().actor == "cli" and Principal.cli().role == Role.ADMIN
    assert SourceWriter(source="app", key_prefix="ab").actor == "source:app"


def test_unknown_roles_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_role("root")
    assert caught.value.code == "users.unknown_role"
