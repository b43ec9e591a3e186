"""Who is calling: a user (by session, API key or the CLI) or a source system's write key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from newretail.errors import Forbidden
from newretail.security.roles import (
    PERMISSIONS,
    STORE_SCOPED_ROLES,
    SUPPLIER_SCOPED_ROLES,
    Permission,
    Role,
)


class Actor(Protocol):
    """Anything the audit log and idempotency keys can attribute an action to."""

    @property
    def actor(self) -> str: ...

    @property
    def user_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """A user acting through the console, the API or the CLI, with its role and store scope (or,
    for a supplier's user, the supplier it acts for)."""

    user_id: int | None
    role: Role
    stores: frozenset[str] = field(default_factory=frozenset)
    key_prefix: str | None = None
    supplier_id: str | None = None

    @classmethod
    def cli(cls) -> Principal:
        """The operator at the server's command line: an admin with no user row."""
        return cls(user_id=None, role=Role.ADMIN)

    @property
    def actor(self) -> str:
        return "cli" if self.user_id is None else f"user:{self.user_id}"

    @property
    def store_scope(self) -> frozenset[str] | None:
        """The stores this principal may see, or None for the whole chain."""
        return self.stores if self.role in STORE_SCOPED_ROLES else None

    @property
    def supplier_scope(self) -> str | None:
        """The one supplier whose materials this principal may see, or None for every supplier."""
        return self.supplier_id if self.role in SUPPLIER_SCOPED_ROLES else None

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise :class:`Forbidden` unless the role grants ``permission``.

        >>> Principal(user_id=1, role=Role.ANALYST).require(Permission.PII_REVEAL)
        Traceback (most recent call last):
        newretail.errors.Forbidden: role analyst may not pii.reveal
        """
        if not self.can(permission):
            raise Forbidden("auth.permission_denied", f"role {self.role} may not {permission}")

    def require_store(self, store_id: str) -> None:
        """Raise :class:`Forbidden` when the principal's store scope leaves out ``store_id``."""
        scope = self.store_scope
        if scope is not None and store_id not in scope:
            raise Forbidden("auth.store_denied", f"store {store_id} is outside your store scope")

    def require_supplier(self, supplier_id: str) -> None:
        """Raise :class:`Forbidden` when the principal acts for a supplier other than
        ``supplier_id``."""
        if self.role in SUPPLIER_SCOPED_ROLES and supplier_id != self.supplier_id:
            raise Forbidden(
                "auth.supplier_denied", f"supplier {supplier_id} is not the one you act for"
            )


@dataclass(frozen=True, slots=True)
class SourceWriter:
    """A source system's write key: it may send events for its source and holds no user permissions."""

    source: str
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"source:{self.source}"

    @property
    def user_id(self) -> int | None:
        return None
