"""The audited PII reveal: decrypt one customer's field for a principal allowed to see it."""

from __future__ import annotations

import datetime as dt
import re

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection

from newretail.errors import InvalidInput
from newretail.security import audit
from newretail.security.pii import PiiProtector
from newretail.security.principal import Principal
from newretail.security.roles import Permission

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def reveal_pii(
    conn: Connection,
    *,
    principal: Principal,
    protector: PiiProtector,
    cipher: bytes,
    person_id: str,
    field: str,
    now: dt.datetime,
) -> str:
    """The clear text of ``cipher`` (``person_id``'s ``field``), audited in the caller's transaction.

    Raises :class:`~newretail.errors.Forbidden` without ``pii.reveal``. The audit entry names the
    person and the field, never the value; if the caller's transaction rolls back, so does the entry,
    and a caller must not show the value from a transaction that did not commit.
    """
    principal.require(Permission.PII_REVEAL)
    if not _NAME.match(field):
        raise InvalidInput("pii.bad_field", f"not a field name: {field!r}", field="field")
    try:
        value = protector.decrypt(cipher)
    except (InvalidTag, ValueError):
        raise InvalidInput(
            "pii.undecryptable", "the value was not encrypted with this platform's key"
        ) from None
    audit.record(
        conn,
        actor=principal,
        action=audit.Action.PII_REVEALED,
        at=now,
        target_type="person",
        target_id=person_id,
        detail={"field": field},
    )
    return value
