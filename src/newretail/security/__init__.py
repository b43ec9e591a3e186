"""Auth and roles, sessions and API keys, the audit log, PII protection and the audited reveal.

The API and the CLI import from here; the modules behind these names are internal.
"""

from __future__ import annotations

from newretail.security.apikeys import (
    KeyPublic,
    NewKey,
    authenticate_user_key,
    authenticate_write_key,
    create_user_key,
    create_write_key,
    list_keys,
    revoke_key,
)
from newretail.security.audit import Action, AuditEntry, AuditPage, list_audit, record_export
from newretail.security.passwords import generate_password
from newretail.security.principal import Principal, SourceWriter
from newretail.security.reveal import reveal_pii
from newretail.security.roles import PERMISSIONS, Permission, Role
from newretail.security.sessions import (
    ConsoleSession,
    NewSession,
    SessionPolicy,
    check_csrf,
    login,
    logout,
    resolve_session,
)
from newretail.security.users import (
    UserPublic,
    change_role,
    create_user,
    deactivate_user,
    get_user,
    list_users,
)

__all__ = [
    "PERMISSIONS",
    "Action",
    "AuditEntry",
    "AuditPage",
    "ConsoleSession",
    "KeyPublic",
    "NewKey",
    "NewSession",
    "Permission",
    "Principal",
    "Role",
    "SessionPolicy",
    "SourceWriter",
    "UserPublic",
    "authenticate_user_key",
    "authenticate_write_key",
    "change_role",
    "check_csrf",
    "create_user",
    "create_user_key",
    "create_write_key",
    "deactivate_user",
    "generate_password",
    "get_user",
    "list_audit",
    "list_keys",
    "list_users",
    "login",
    "logout",
    "record_export",
    "resolve_session",
    "reveal_pii",
    "revoke_key",
]
