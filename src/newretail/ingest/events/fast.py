"""Normalising the common message shapes without building pydantic models: intake's hot path.

It keeps only what :mod:`~newretail.ingest.events.normalise` keeps, as the same record. Whenever it
is not sure (a value of an unexpected type, a field sent under its Python name, a number JSON cannot
hold...) it answers ``None``, and the caller runs the whole request through the pydantic models,
which then keep it or reject it with their exact error. Tests hold the two paths to one output.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic_core import PydanticCustomError

from newretail.ingest.events.body import Endpoint, RawRequest
from newretail.ingest.events.errors import EventRejected
from newretail.ingest.events.normalise import DROPPED, derived_id, occurred_at, shared_time
from newretail.ingest.events.payload import segment_id, utc_time
from newretail.ingest.events.record import Record

_COMMON = frozenset(
    {
        "messageId",
        "userId",
        "anonymousId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "context",
        "integrations",
        "type",
    }
)
_FIELDS: dict[str, frozenset[str]] = {
    "track": _COMMON | {"event", "properties"},
    "page": _COMMON | {"name", "category", "properties"},
    "screen": _COMMON | {"name", "category", "properties"},
    "identify": _COMMON | {"traits"},
    "group": _COMMON | {"groupId", "traits"},
    "alias": _COMMON | {"previousId"},
}
# Any model's field, by alias or by Python name: as an unknown key of another kind it would shadow a
# field in model_dump(), and by Python name it fills one; the pydantic path handles both.
_RESERVED = frozenset().union(*_FIELDS.values()) | {
    "message_id",
    "user_id",
    "anonymous_id",
    "original_timestamp",
    "sent_at",
    "group_id",
    "previous_id",
}
# Compact, UTF-8, and refusing NaN/Infinity (pydantic writes those as null): one encoder, built once.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class _Unsure(Exception):
    """The message is outside the shapes this path is certain of."""


def records(
    request: RawRequest, *, endpoint: Endpoint, source: str, received_at: dt.datetime
) -> list[Record] | None:
    """The request's records, or ``None`` when the pydantic path must decide."""
    try:
        shared_context = _shared(request.shared.get("context"))
        shared_integrations = _shared(request.shared.get("integrations"))
        shared_sent = shared_time(request.shared)
    except (_Unsure, EventRejected):
        return None
    received_text = _iso(received_at)
    out: list[Record] = []
    try:
        for _, raw in request.messages:
            out.append(
                _record(
                    raw,
                    endpoint=endpoint,
                    source=source,
                    received_at=received_at,
                    received_text=received_text,
                    shared_context=shared_context,
                    shared_integrations=shared_integrations,
                    shared_sent=shared_sent,
                )
            )
    except (_Unsure, ValueError):  # ValueError: NaN, Infinity or a lone surrogate in the payload
        return None
    return out


def _record(
    raw: dict[str, Any],
    *,
    endpoint: Endpoint,
    source: str,
    received_at: dt.datetime,
    received_text: str,
    shared_context: dict[str, Any],
    shared_integrations: dict[str, Any],
    shared_sent: dt.datetime | None,
) -> Record:
    kind = raw.setdefault("type", endpoint) if endpoint != "batch" else raw.get("type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None or (endpoint != "batch" and kind != endpoint):
        raise _Unsure
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            if key in _RESERVED:
                raise _Unsure
            if key not in DROPPED:
                extra[key] = value
    user_id = _id(raw.get("userId"))
    anonymous_id = _id(raw.get("anonymousId"))
    if user_id is None and anonymous_id is None:
        raise _Unsure
    group_id = previous_id = event = name = category = None
    if kind == "track":
        event = raw.get("event")
        if type(event) is not str or not event:
            raise _Unsure
    elif kind in ("page", "screen"):
        name = _text(raw.get("name"))
        category = _text(raw.get("category"))
    elif kind == "group":
        group_id = _required_id(raw.get("groupId"))
    elif kind == "alias":
        user_id = _required_id(raw.get("userId"))
        previous_id = _required_id(raw.get("previousId"))
    timestamp = _time(raw.get("timestamp"))
    original = _time(raw.get("originalTimestamp"))
    sent_at = _time(raw.get("sentAt")) or shared_sent
    message_id = _id(raw.get("messageId")) or derived_id(source, raw, received_at)
    when = occurred_at(
        timestamp=timestamp, original=original, sent_at=sent_at, received_at=received_at
    )
    # Field for field, in order, what StoredEvent.to_bytes() writes.
    payload = _ENCODER.encode(
        {
            "v": 1,
            "source": source,
            "message_id": message_id,
            "type": kind,
            "received_at": received_text,
            "occurred_at": received_text if when is received_at else _iso(when),
            "sent_at": None if sent_at is None else _iso(sent_at),
            "user_id": user_id,
            "anonymous_id": anonymous_id,
            "event": event,
            "name": name,
            "category": category,
            "group_id": group_id,
            "previous_id": previous_id,
            # A kind without properties or traits never has the key here: it is reserved.
            "properties": _own(raw, "properties"),
            "traits": _own(raw, "traits"),
            "context": {**shared_context, **_own(raw, "context")},
            "integrations": {**shared_integrations, **_own(raw, "integrations")},
            "extra": extra,
        }
    ).encode()
    return Record(
        key=f"{source}:{message_id}",
        message_id=message_id,
        payload=payload,
        person=user_id or anonymous_id or "",
        occurred_at=when,
    )


def _id(value: object) -> str | None:
    if type(value) is str:
        return value or None
    value = segment_id(value)
    if value is None or type(value) is str:
        return value
    raise _Unsure


def _required_id(value: object) -> str:
    checked = _id(value)
    if not checked:
        raise _Unsure
    return checked


def _text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _Unsure


def _time(value: object) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = utc_time(value)
    except PydanticCustomError:
        raise _Unsure from None
    assert parsed is None or isinstance(parsed, dt.datetime)
    return parsed


def _own(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """A message's object field: ``{}`` when missing; present, it must be an object (even null is
    refused by the model)."""
    if key not in raw:
        return {}
    value = raw[key]
    if type(value) is dict:
        return value
    raise _Unsure


def _shared(value: object) -> dict[str, Any]:
    """A batch-level object field, which the pydantic path merges as ``shared.get(key) or {}``."""
    if not value:
        return {}
    if type(value) is dict:
        return value
    raise _Unsure


def _iso(at: dt.datetime) -> str:
    # Always UTC here; pydantic writes UTC as "Z" and microseconds only when there are some.
    return at.isoformat().removesuffix("+00:00") + "Z"
