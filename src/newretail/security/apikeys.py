"""API keys, shown once and stored as a SHA-256 digest: user keys act as their user, write keys let one
source system send events.

A key reads ``nru_<prefix>_<secret>`` (user) or ``nrw_<prefix>_<secret>`` (write); the prefix is public
and finds the row, the digest of the whole key proves it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, or_, select, update

from newretail.errors import Conflict, InvalidInput, NotFound, Unauthorized
from newretail.model.codes import SOURCES
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import api_keys, users
from newretail.security import audit, tokens
from newretail.security.principal import Principal, SourceWriter
from newretail.security.roles import Permission
from newretail.security.users import get_user, principal_for_user

KeyKind = Literal["user", "write"]
_TAGS: dict[KeyKind, str] = {"user": "nru", "write": "nrw"}
# Key use is audited (and last_used_at written) at most once per key per interval, not per request.
USE_RECORD_INTERVAL = dt.timedelta(minutes=1)
_PREFIX_BYTES = 6
_INVALID = "the API key is not valid"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key: ``key`` is the only copy of the secret, to be shown once."""

    key: str
    prefix: str
    kind: KeyKind
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class KeyPublic:
    prefix: str
    kind: KeyKind
    user_id: int | None
    source: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def create_user_key(
    conn: Connection,
    *,
    actor: Principal,
    email: str,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
) -> NewKey:
    """A key that acts as the user with this address (which must be active)."""
    actor.require(Permission.KEYS_MANAGE)
    user = get_user(conn, email=email)
    if not user.active:
        raise Conflict("keys.user_inactive", f"user {user.email} is deactivated", field="email")
    return _create(
        conn, actor=actor, kind="user", owner={"user_id": user.id}, now=now, expires_at=expires_at
    )


def create_write_key(
    conn: Connection,
    *,
    actor: Principal,
    source: str,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
) -> NewKey:
    """A key with which one source system (``app``, ``mini_program``…) sends events."""
    actor.require(Permission.KEYS_MANAGE)
    if source not in SOURCES:
        raise InvalidInput(
            "keys.unknown_source",
            f"unknown source {source!r}; use one of {', '.join(SOURCES)}",
            field="source",
        )
    return _create(
        conn, actor=actor, kind="write", owner={"source": source}, now=now, expires_at=expires_at
    )


def revoke_key(conn: Connection, *, actor: Principal, prefix: str, now: dt.datetime) -> None:
    """Revoke the key with this prefix; revoking a revoked key changes nothing."""
    actor.require(Permission.KEYS_MANAGE)
    found = conn.execute(select(api_keys.c.revoked_at).where(api_keys.c.prefix == prefix)).first()
    if found is None:
        raise NotFound("keys.not_found", f"no API key with prefix {prefix!r}", field="prefix")
    if found.revoked_at is not None:
        return
    conn.execute(update(api_keys).where(api_keys.c.prefix == prefix).values(revoked_at=now))
    audit.record(
        conn,
        actor=actor,
        action=audit.Action.KEY_REVOKED,
        at=now,
        target_type="api_key",
        target_id=prefix,
    )


def list_keys(conn: Connection, *, actor: Principal) -> list[KeyPublic]:
    """Every key's public facts, newest first (never a secret or a digest)."""
    actor.require(Permission.KEYS_MANAGE)
    columns = [c for c in api_keys.c if c.name not in ("id", "secret_hash")]
    rows = conn.execute(
        select(*columns).order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
    )
    return [KeyPublic(**row) for row in rows.mappings()]


def authenticate_user_key(conn: Connection, presented: str, *, now: dt.datetime) -> Principal:
    """The principal a user key acts as, or :class:`Unauthorized`; records the use (rate-limited)."""
    row = _verify(conn, presented, kind="user", now=now)
    active = conn.execute(select(users.c.active).where(users.c.id == row["user_id"])).scalar_one()
    if not active:
        raise Unauthorized("auth.invalid_key", _INVALID)
    principal = principal_for_user(conn, row["user_id"], key_prefix=row["prefix"])
    _record_use(conn, principal, row, now=now)
    return principal


def authenticate_write_key(conn: Connection, presented: str, *, now: dt.datetime) -> SourceWriter:
    """The source a write key sends for, or :class:`Unauthorized`; records the use (rate-limited)."""
    row = _verify(conn, presented, kind="write", now=now)
    writer = SourceWriter(source=row["source"], key_prefix=row["prefix"])
    _record_use(conn, writer, row, now=now)
    return writer


def _create(
    conn: Connection,
    *,
    actor: Principal,
    kind: KeyKind,
    owner: dict[str, Any],
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> NewKey:
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(
            "keys.bad_expiry", "the expiry must be in the future", field="expires_at"
        )
    # 48 random bits: a clash is rare and retried, never an error the caller sees.
    for _ in range(5):
        prefix = secrets.token_hex(_PREFIX_BYTES)
        key = f"{_TAGS[kind]}_{prefix}_{tokens.new_secret()}"
        values = {
            "prefix": prefix,
            "kind": kind,
            "secret_hash": tokens.digest(key),
            "created_at": now,
            "expires_at": expires_at,
            **owner,
        }
        if insert_if_absent(conn, api_keys, values, unique=["prefix"]):
            break
    else:
        raise RuntimeError("could not draw an unused key prefix")
    audit.record(
        conn,
        actor=actor,
        action=audit.Action.KEY_CREATED,
        at=now,
        target_type="api_key",
        target_id=prefix,
        detail={"kind": kind, **owner},
    )
    return NewKey(key=key, prefix=prefix, kind=kind, expires_at=expires_at)


def _verify(conn: Connection, presented: str, *, kind: KeyKind, now: dt.datetime) -> dict[str, Any]:
    tag, _, rest = presented.strip().partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != _TAGS[kind] or not prefix or not secret:
        raise Unauthorized("auth.invalid_key", _INVALID)
    found = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
    # Unknown prefix and wrong secret answer alike; only a holder of the secret learns more.
    if (
        found is None
        or found["kind"] != kind
        or not tokens.matches(presented.strip(), found["secret_hash"])
    ):
        raise Unauthorized("auth.invalid_key", _INVALID)
    if found["revoked_at"] is not None:
        raise Unauthorized("auth.key_revoked", f"the API key {prefix} was revoked")
    if found["expires_at"] is not None and found["expires_at"] <= now:
        raise Unauthorized("auth.key_expired", f"the API key {prefix} has expired")
    return dict(found)


def _record_use(
    conn: Connection, actor: Principal | SourceWriter, row: dict[str, Any], *, now: dt.datetime
) -> None:
    # One conditional UPDATE decides, atomically across workers, whether this use gets recorded.
    touched = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == row["id"],
            or_(
                api_keys.c.last_used_at.is_(None),
                api_keys.c.last_used_at <= now - USE_RECORD_INTERVAL,
            ),
        )
        .values(last_used_at=now)
    ).rowcount
    if touched:
        audit.record(
            conn,
            actor=actor,
            action=audit.Action.KEY_USED,
            at=now,
            target_type="api_key",
            target_id=row["prefix"],
        )
