"""Console sessions: password login, a random token whose digest alone is stored, expiry, an idle
timeout, a CSRF token bound to the session, and logout.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from newretail.config import Settings
from newretail.errors import Forbidden, Unauthorized
from newretail.oltp.tables import sessions, users
from newretail.security import audit, passwords, tokens
from newretail.security.pii import mask_email, normalize_email
from newretail.security.principal import Principal
from newretail.security.users import principal_for_user

# last_seen_at is written at most this often, so a busy console does not write on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
_CSRF_INFO = b"newretail csrf v1"
_EXPIRED = "your session has ended; sign in again"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    max_age: dt.timedelta
    idle_timeout: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            max_age=dt.timedelta(minutes=settings.session_max_age_minutes),
            idle_timeout=dt.timedelta(minutes=settings.session_idle_minutes),
        )


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a successful login hands back: the token goes in an HttpOnly cookie, once."""

    token: str
    csrf_token: str
    expires_at: dt.datetime
    principal: Principal


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A live session: who it belongs to and the CSRF token its forms must carry."""

    id: int
    principal: Principal
    expires_at: dt.datetime
    csrf_token: str


def login(
    conn: Connection, *, email: str, password: str, now: dt.datetime, policy: SessionPolicy
) -> NewSession | None:
    """A new session, or None after the failure is audited (the caller commits, then answers 401).

    The audit entry names the user when the address is known, never the password; an unknown address
    costs the same scrypt work as a known one, so timing does not tell which addresses exist.
    """
    address = email.strip().lower()
    row = conn.execute(
        select(users.c.id, users.c.password_hash, users.c.active).where(users.c.email == address)
    ).first()
    stored = row.password_hash if row is not None else passwords.dummy_hash()
    # Over-long input is refused before scrypt sees it.
    ok = len(password) <= passwords.MAX_LENGTH and passwords.verify_password(password, stored)
    if row is None or not ok or not row.active:
        reason = "unknown_user" if row is None else ("bad_password" if not ok else "inactive")
        user_id = None if row is None else row.id
        _record_failure(conn, user_id=user_id, address=address, reason=reason, now=now)
        return None
    token = tokens.new_secret()
    expires_at = now + policy.max_age
    conn.execute(
        insert(sessions).values(
            token_hash=tokens.digest(token),
            user_id=row.id,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
        )
    )
    principal = principal_for_user(conn, row.id)
    audit.record(
        conn,
        actor=principal,
        action=audit.Action.LOGIN,
        at=now,
        target_type="user",
        target_id=str(row.id),
    )
    return NewSession(
        token=token, csrf_token=csrf_token(token), expires_at=expires_at, principal=principal
    )


def resolve_session(
    conn: Connection, token: str, *, now: dt.datetime, policy: SessionPolicy
) -> ConsoleSession:
    """The live session for a cookie's token, or :class:`Unauthorized` (unknown, ended, idle, revoked)."""
    row = conn.execute(
        select(sessions, users.c.active)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == tokens.digest(token))
    ).first()
    if row is None:
        raise Unauthorized("auth.no_session", "you are not signed in")
    if (
        row.revoked_at is not None
        or not row.active
        or row.expires_at <= now
        or row.last_seen_at + policy.idle_timeout <= now
    ):
        raise Unauthorized("auth.session_expired", _EXPIRED)
    if row.last_seen_at + TOUCH_INTERVAL <= now:
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now))
    return ConsoleSession(
        id=row.id,
        principal=principal_for_user(conn, row.user_id),
        expires_at=row.expires_at,
        csrf_token=csrf_token(token),
    )


def logout(conn: Connection, token: str, *, now: dt.datetime) -> None:
    """End the session; an unknown or already ended token changes nothing."""
    row = conn.execute(
        select(sessions.c.id, sessions.c.user_id).where(
            sessions.c.token_hash == tokens.digest(token), sessions.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return
    conn.execute(update(sessions).where(sessions.c.id == row.id).values(revoked_at=now))
    audit.record(
        conn,
        actor=principal_for_user(conn, row.user_id),
        action=audit.Action.LOGOUT,
        at=now,
        target_type="user",
        target_id=str(row.user_id),
    )


def csrf_token(session_token: str) -> str:
    """The CSRF token bound to a session: an HMAC keyed by the session's secret, so nothing is stored
    and a token from one session is worthless in another."""
    mac = hmac.new(session_token.encode(), _CSRF_INFO, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_csrf(session_token: str, presented: str | None) -> None:
    """Raise :class:`Forbidden` ``auth.bad_csrf`` unless ``presented`` belongs to this session."""
    if presented is None or not hmac.compare_digest(csrf_token(session_token), presented):
        raise Forbidden("auth.bad_csrf", "the form's CSRF token does not match your session")


def _record_failure(
    conn: Connection, *, user_id: int | None, address: str, reason: str, now: dt.datetime
) -> None:
    # Whoever typed it is unidentified. An unknown "address" may be a password typed in the wrong box,
    # so only its mask is kept.
    normalized = normalize_email(address) if user_id is None else None
    audit.record(
        conn,
        actor="anonymous",
        action=audit.Action.LOGIN_FAILED,
        at=now,
        target_type="user" if user_id is not None else None,
        target_id=str(user_id) if user_id is not None else None,
        detail={"reason": reason, "email": mask_email(normalized) if normalized else None},
    )
