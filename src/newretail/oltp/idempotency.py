"""Idempotency keys for mutating API calls: a retry replays the stored response instead of acting twice.

Call :func:`begin`, do the work and call :func:`complete` in one transaction. A concurrent duplicate
then waits on the unique key and, once the first commits, gets the stored response; if the work fails
and rolls back, the claim goes with it and a retry proceeds afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, delete, select, update

from newretail.errors import Conflict, InvalidInput
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import idempotency_keys

MAX_KEY_LENGTH = 255


class HasActor(Protocol):
    @property
    def actor(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Proceed:
    """This call holds the key: do the work, then :func:`complete` it."""

    claim_id: int


@dataclass(frozen=True, slots=True)
class Replay:
    """The key was used before with the same request: answer with this instead."""

    status_code: int
    body: bytes


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 of what makes two requests the same request.

    >>> request_fingerprint(method="POST", path="/a", body=b"{}")[:12]
    '4fd472728d9d'
    """
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def begin(
    conn: Connection, *, key: str, principal: HasActor, fingerprint: str, now: dt.datetime
) -> Proceed | Replay:
    """Claim ``key`` for this principal, or return the response stored under it.

    Raises :class:`Conflict` ``idempotency.key_reused`` when the key was used for a different
    request, and ``idempotency.in_progress`` when a claim committed without a response.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "idempotency.bad_key",
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    owner = principal.actor
    values = {"owner": owner, "key": key, "fingerprint": fingerprint, "created_at": now}
    claimed = insert_if_absent(conn, idempotency_keys, values, unique=["owner", "key"])
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.owner == owner, idempotency_keys.c.key == key
        )
    ).one()
    if claimed:
        return Proceed(claim_id=row.id)
    if row.fingerprint != fingerprint:
        raise Conflict(
            "idempotency.key_reused",
            "this Idempotency-Key was used for a different request",
            field="Idempotency-Key",
        )
    if row.completed_at is None:
        raise Conflict(
            "idempotency.in_progress",
            "a request with this Idempotency-Key is still being processed",
            field="Idempotency-Key",
        )
    return Replay(status_code=row.status_code, body=row.response_body)


def complete(
    conn: Connection, *, claim: Proceed, status_code: int, body: bytes, now: dt.datetime
) -> None:
    """Store the response that later calls with the same key will replay."""
    conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.id == claim.claim_id)
        .values(status_code=status_code, response_body=body, completed_at=now)
    )


def purge(conn: Connection, *, before: dt.datetime) -> int:
    """Forget keys created before ``before`` (clients retry within hours, not weeks); returns how many."""
    return conn.execute(
        delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
    ).rowcount
