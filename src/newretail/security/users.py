"""Console users: create with a role and store scope (or, for a supplier's user, its supplier),
change role, deactivate, load as a principal."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Row, delete, insert, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import api_keys, sessions, user_stores, users
from newretail.security import audit, passwords
from newretail.security.principal import Principal
from newretail.security.roles import (
    STORE_SCOPED_ROLES,
    SUPPLIER_SCOPED_ROLES,
    Permission,
    Role,
    parse_role,
)

# Deliberately plain: one @, a dotted domain, no spaces or quotes; staff addresses need no more.
_EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
_STORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUPPLIER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class UserPublic:
    """A user as the console shows it: never the password hash."""

    id: int
    email: str
    role: Role
    stores: tuple[str, ...]
    active: bool
    created_at: dt.datetime
    supplier_id: str | None = None


def normalize_staff_email(raw: str) -> str:
    """The lower-cased address, or :class:`InvalidInput` ``users.bad_email``."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("users.bad_email", f"not an e-mail address: {raw!r}", field="email")
    return email


def create_user(
    conn: Connection,
    *,
    actor: Principal,
    email: str,
    role: str,
    stores: Iterable[str] = (),
    supplier_id: str | None = None,
    password: str,
    now: dt.datetime,
) -> UserPublic:
    """Create an active user; ``Conflict`` ``users.duplicate_email`` if the address is taken."""
    actor.require(Permission.USERS_MANAGE)
    address = normalize_staff_email(email)
    parsed = parse_role(role)
    scope = _scope(parsed, stores)
    supplier = _supplier(parsed, supplier_id)
    passwords.check_policy(password)
    values = {
        "email": address,
        "role": str(parsed),
        "supplier_id": supplier,
        "password_hash": passwords.hash_password(password),
        "active": True,
        "created_at": now,
        "updated_at": now,
    }
    if not insert_if_absent(conn, users, values, unique=["email"]):
        raise Conflict("users.duplicate_email", f"a user {address} exists", field="email")
    user_id = conn.execute(select(users.c.id).where(users.c.email == address)).scalar_one()
    _set_stores(conn, user_id, scope)
    audit.record(
        conn,
        actor=actor,
        action=audit.Action.USER_CREATED,
        at=now,
        target_type="user",
        target_id=str(user_id),
        detail={"role": str(parsed), "stores": sorted(scope), "supplier": supplier},
    )
    return get_user(conn, email=address)


def change_role(
    conn: Connection,
    *,
    actor: Principal,
    email: str,
    role: str,
    stores: Iterable[str] = (),
    supplier_id: str | None = None,
    now: dt.datetime,
) -> UserPublic:
    """Give a user a new role and store scope (or supplier); the change is audited with the old and
    new values."""
    actor.require(Permission.USERS_MANAGE)
    before = get_user(conn, email=email)
    parsed = parse_role(role)
    scope = _scope(parsed, stores)
    supplier = _supplier(parsed, supplier_id)
    conn.execute(
        update(users)
        .where(users.c.id == before.id)
        .values(role=str(parsed), supplier_id=supplier, updated_at=now)
    )
    conn.execute(delete(user_stores).where(user_stores.c.user_id == before.id))
    _set_stores(conn, before.id, scope)
    detail: dict[str, str | int | bool | list[str] | None] = {
        "from_role": str(before.role),
        "to_role": str(parsed),
        "from_stores": list(before.stores),
        "to_stores": sorted(scope),
    }
    if before.supplier_id is not None or supplier is not None:
        # Only a change that involves a supplier scope says which (the entry says no more).
        detail |= {"from_supplier": before.supplier_id, "to_supplier": supplier}
    audit.record(
        conn,
        actor=actor,
        action=audit.Action.USER_ROLE_CHANGED,
        at=now,
        target_type="user",
        target_id=str(before.id),
        detail=detail,
    )
    return get_user(conn, email=email)


def deactivate_user(conn: Connection, *, actor: Principal, email: str, now: dt.datetime) -> None:
    """Lock a user out: its sessions and API keys are revoked with it."""
    actor.require(Permission.USERS_MANAGE)
    user = get_user(conn, email=email)
    conn.execute(update(users).where(users.c.id == user.id).values(active=False, updated_at=now))
    conn.execute(
        update(sessions)
        .where(sessions.c.user_id == user.id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    conn.execute(
        update(api_keys)
        .where(api_keys.c.user_id == user.id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        conn,
        actor=actor,
        action=audit.Action.USER_DEACTIVATED,
        at=now,
        target_type="user",
        target_id=str(user.id),
    )


def get_user(conn: Connection, *, email: str) -> UserPublic:
    """The user with this address (any case), or :class:`NotFound` ``users.not_found``."""
    address = email.strip().lower()
    row = conn.execute(select(users).where(users.c.email == address)).first()
    if row is None:
        raise NotFound("users.not_found", f"no user {address}", field="email")
    return _public(conn, row)


def list_users(conn: Connection, *, actor: Principal) -> list[UserPublic]:
    """Every user, by e-mail address."""
    actor.require(Permission.USERS_MANAGE)
    return [_public(conn, row) for row in conn.execute(select(users).order_by(users.c.email))]


def principal_for_user(
    conn: Connection, user_id: int, *, key_prefix: str | None = None
) -> Principal:
    """The principal an active user acts as; callers check ``active`` before they get here."""
    row = conn.execute(select(users.c.role, users.c.supplier_id).where(users.c.id == user_id)).one()
    return Principal(
        user_id=user_id,
        role=Role(row.role),
        stores=frozenset(_stores(conn, user_id)),
        key_prefix=key_prefix,
        supplier_id=row.supplier_id,
    )


def _scope(role: Role, stores: Iterable[str]) -> frozenset[str]:
    scope = frozenset(stores)
    for store in scope:
        if not _STORE_ID.match(store):
            raise InvalidInput("users.bad_store", f"not a store id: {store!r}", field="stores")
    if role in STORE_SCOPED_ROLES and not scope:
        raise InvalidInput(
            "users.scope_required", f"role {role} needs at least one store", field="stores"
        )
    if role not in STORE_SCOPED_ROLES and scope:
        raise InvalidInput(
            "users.scope_not_allowed",
            f"role {role} sees the whole chain; it takes no store scope",
            field="stores",
        )
    return scope


def _supplier(role: Role, supplier_id: str | None) -> str | None:
    if supplier_id is not None and not _SUPPLIER_ID.match(supplier_id):
        raise InvalidInput(
            "users.bad_supplier", f"not a supplier id: {supplier_id!r}", field="supplier_id"
        )
    if role in SUPPLIER_SCOPED_ROLES and supplier_id is None:
        raise InvalidInput(
            "users.supplier_required", f"role {role} acts for one supplier", field="supplier_id"
        )
    if role not in SUPPLIER_SCOPED_ROLES and supplier_id is not None:
        raise InvalidInput(
            "users.supplier_not_allowed",
            f"role {role} does not act for a supplier",
            field="supplier_id",
        )
    return supplier_id


def _set_stores(conn: Connection, user_id: int, scope: frozenset[str]) -> None:
    if scope:
        conn.execute(
            insert(user_stores), [{"user_id": user_id, "store_id": s} for s in sorted(scope)]
        )


def _stores(conn: Connection, user_id: int) -> list[str]:
    query = select(user_stores.c.store_id).where(user_stores.c.user_id == user_id)
    return list(conn.execute(query.order_by(user_stores.c.store_id)).scalars())


def _public(conn: Connection, row: Row[tuple[object, ...]]) -> UserPublic:
    m = row._mapping
    return UserPublic(
        id=m["id"],
        email=m["email"],
        role=Role(m["role"]),
        stores=tuple(_stores(conn, m["id"])),
        active=m["active"],
        created_at=m["created_at"],
        supplier_id=m["supplier_id"],
    )
