"""Validate raw messages against the Segment models and turn them into :class:`StoredEvent` records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from newretail.ingest.events import errors
from newretail.ingest.events.body import Endpoint, RawRequest
from newretail.ingest.events.contract import StoredEvent
from newretail.ingest.events.errors import EventRejected
from newretail.ingest.events.payload import MESSAGE, Message

# Top-level fields that are not event data: the credential, and a time only the server may set.
DROPPED = frozenset({"writeKey", "receivedAt", "type"})
_CODES = {
    "missing": errors.MISSING_FIELD,
    "missing_identity": errors.MISSING_IDENTITY,
    "invalid_timestamp": errors.INVALID_TIMESTAMP,
    "union_tag_invalid": errors.UNKNOWN_TYPE,
    "union_tag_not_found": errors.UNKNOWN_TYPE,
}


def _rejection(exc: ValidationError, position: str) -> EventRejected:
    first: ErrorDetails = exc.errors(include_url=False)[0]
    # The first loc item is the union member (e.g. "track"); the rest is the field path.
    loc = [str(part) for part in first["loc"]]
    path = "type" if first["type"].startswith("union_tag") else ".".join(loc[1:])
    code = _CODES.get(first["type"], errors.INVALID_FIELD)
    where = f"{path}: " if path else ""
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return EventRejected(
        code, f"{where}{first['msg']}{tail}", field=path or None, position=position
    )


def validate(request: RawRequest, *, endpoint: Endpoint) -> list[tuple[str, Message]]:
    """Every message of the request validated, or :class:`EventRejected` for the first bad one."""
    out: list[tuple[str, Message]] = []
    for position, raw in request.messages:
        if endpoint != "batch":
            declared = raw.setdefault("type", endpoint)
            if declared != endpoint:
                raise EventRejected(
                    errors.TYPE_MISMATCH,
                    f"type {declared!r} sent to the {endpoint} endpoint",
                    field="type",
                    position=position,
                )
        try:
            out.append((position, MESSAGE.validate_python(raw)))
        except ValidationError as exc:
            raise _rejection(exc, position) from None
    return out


def occurred_at(
    *,
    timestamp: dt.datetime | None,
    original: dt.datetime | None,
    sent_at: dt.datetime | None,
    received_at: dt.datetime,
) -> dt.datetime:
    """Segment's rule: trust an explicit timestamp; correct a device clock by sentAt; else receipt."""
    if timestamp is not None:
        return timestamp
    if original is not None and sent_at is not None:
        return received_at - (sent_at - original)
    return original or received_at


def derived_id(source: str, raw: dict[str, Any], received_at: dt.datetime) -> str:
    # Segment's libraries always send a messageId; for a bare HTTP caller, a hash of the message
    # makes a retried request a duplicate. Without a client time the receipt time is part of it,
    # so two identical untimed events are not merged.
    pinned = any(raw.get(name) for name in ("timestamp", "originalTimestamp"))
    basis = {"source": source, "message": raw, "at": None if pinned else received_at.isoformat()}
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()
    return f"derived-{digest[:32]}"


def to_stored(
    message: Message,
    raw: dict[str, Any],
    *,
    shared: dict[str, Any],
    source: str,
    received_at: dt.datetime,
) -> StoredEvent:
    """The stream record for one validated message; ``shared`` holds the batch-level fields."""
    sent_at = message.sent_at or shared_time(shared)
    fields = message.model_dump()
    extra = {k: v for k, v in (message.model_extra or {}).items() if k not in DROPPED}
    context = {**(shared.get("context") or {}), **message.context}
    integrations = {**(shared.get("integrations") or {}), **message.integrations}
    return StoredEvent(
        source=source,
        message_id=message.message_id or derived_id(source, raw, received_at),
        type=fields["type"],
        received_at=received_at,
        occurred_at=occurred_at(
            timestamp=message.timestamp,
            original=message.original_timestamp,
            sent_at=sent_at,
            received_at=received_at,
        ),
        sent_at=sent_at,
        user_id=message.user_id,
        anonymous_id=message.anonymous_id,
        event=fields.get("event"),
        name=fields.get("name"),
        category=fields.get("category"),
        group_id=fields.get("group_id"),
        previous_id=fields.get("previous_id"),
        properties=fields.get("properties") or {},
        traits=fields.get("traits") or {},
        context=context,
        integrations=integrations,
        extra=extra,
    )


def shared_time(shared: dict[str, Any]) -> dt.datetime | None:
    """The batch-level ``sentAt``, which a message without its own takes."""
    value = shared.get("sentAt")
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise EventRejected(
            errors.INVALID_TIMESTAMP, "sentAt is not an ISO 8601 timestamp", field="sentAt"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
