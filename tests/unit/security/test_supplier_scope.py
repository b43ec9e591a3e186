"""The supplier role: one permission, held to the one supplier its user acts for."""

from __future__ import annotations

import pytest

from newretail.errors import Forbidden
from newretail.security import PERMISSIONS, Permission, Principal, Role


def test_a_supplier_may_read_its_view_and_nothing_else() -> None:
    assert PERMISSIONS[Role.SUPPLIER] == frozenset({Permission.SUPPLY_SUPPLIER_READ})
    for role in (Role.ADMIN, Role.ANALYST, Role.SUPPLY_PLANNER):
        assert Permission.SUPPLY_SUPPLIER_READ in PERMISSIONS[role]
    assert Permission.SUPPLY_SUPPLIER_READ not in PERMISSIONS[Role.STORE_MANAGER]


def test_a_supplier_is_held_to_its_supplier() -> None:
    supplier = Principal(user_id=9, role=Role.SUPPLIER, supplier_id="V01")
    assert supplier.supplier_scope == "V01" and supplier.store_scope is None
    supplier.require_supplier("V01")
    with pytest.raises(Forbidden) as caught:
        supplier.require_supplier("V02")
    assert caught.value.code == "auth.supplier_denied"


def test_a_supplier_without_its_supplier_sees_none() -> None:
    lost = Principal(user_id=9, role=Role.SUPPLIER)
    with pytest.raises(Forbidden):
        lost.require_supplier("V01")


def test_staff_see_every_supplier() -> None:
    planner = Principal(user_id=3, role=Role.SUPPLY_PLANNER, supplier_id="V01")
    assert planner.supplier_scope is None
    planner.require_supplier("V02")
