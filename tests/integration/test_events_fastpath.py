"""The hot path of intake (``fast``) against the pydantic models: whatever it keeps, the models keep
too, as the same record; whatever else it leaves to them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from newretail.ingest.events import EventRejected, StoredEvent, fast
from newretail.ingest.events.body import Endpoint, RawRequest, read_body
from newretail.ingest.events.normalise import to_stored, validate

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)

_ENDPOINTS = ("track", "page", "screen", "identify", "group", "alias")
_KINDS = [*_ENDPOINTS, "purchase", None]
_IDS = st.one_of(
    st.none(), st.just(""), st.text(max_size=5), st.integers(), st.booleans(), st.floats()
)
_TIMES = st.sampled_from(
    [
        "2026-11-23T09:00:00Z",
        "2026-11-23T17:00:00.5+08:00",
        "2026-11-23T08:00:00",
        "2026-11-22T23:59:59.999999-05:00",
        None,
        "soon",
        1700000000,
    ]
)
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False),
        st.text(max_size=4),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
_OBJECTS = st.one_of(st.dictionaries(st.text(max_size=3), _JSON, max_size=3), _JSON)
_KEYS = {
    "messageId": _IDS,
    "userId": _IDS,
    "anonymousId": _IDS,
    "groupId": _IDS,
    "previousId": _IDS,
    "timestamp": _TIMES,
    "originalTimestamp": _TIMES,
    "sentAt": _TIMES,
    "event": _IDS,
    "name": _IDS,
    "category": _IDS,
    "properties": _OBJECTS,
    "traits": _OBJECTS,
    "context": _OBJECTS,
    "integrations": _OBJECTS,
    # Unknown fields, fields under their Python names, and the ones intake drops.
    "channel": _JSON,
    "message_id": _IDS,
    "user_id": _IDS,
    "writeKey": _JSON,
    "receivedAt": _JSON,
}


# What each kind needs to be valid; the strategy starts from it, then adds or overwrites fields.
_VALID: dict[str | None, dict[str, Any]] = {
    "track": {"event": "Product Viewed"},
    "group": {"groupId": "g1"},
    "alias": {"previousId": "a0"},
}


@st.composite
def _message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(_KINDS))
    message: dict[str, Any] = {} if kind is None else {"type": kind, **_VALID.get(kind, {})}
    message[draw(st.sampled_from(["userId", "anonymousId"]))] = draw(st.sampled_from(["u1", 7]))
    if draw(st.booleans()):  # the times, which interact (sentAt corrects originalTimestamp)
        for key in ("timestamp", "originalTimestamp", "sentAt"):
            message[key] = draw(_TIMES)
    for key in draw(st.lists(st.sampled_from(sorted(_KEYS)), max_size=4, unique=True)):
        message[key] = draw(_KEYS[key])
    return message


def _pydantic(request: RawRequest, endpoint: Endpoint) -> list[dict[str, Any]] | str:
    """Each record as the models write it, or what they raise."""
    try:
        validated = validate(request, endpoint=endpoint)
        return [
            json.loads(
                to_stored(
                    message, raw, shared=request.shared, source="app", received_at=NOW
                ).to_bytes()
            )
            for (_, message), (_, raw) in zip(validated, request.messages, strict=True)
        ]
    except (EventRejected, ValidationError, TypeError, UnicodeEncodeError) as error:
        return type(error).__name__


def _compare(document: dict[str, Any], endpoint: Endpoint) -> None:
    body = json.dumps(document).encode()
    try:
        request = read_body(body, endpoint=endpoint, content_encoding=None)
    except EventRejected:
        return
    expected = _pydantic(copy.deepcopy(request), endpoint)
    got = fast.records(request, endpoint=endpoint, source="app", received_at=NOW)
    if got is None:
        return
    assert not isinstance(expected, str), f"fast path kept what the models refuse: {expected}"
    assert [json.loads(r.payload) for r in got] == expected
    for record, stored in zip(got, expected, strict=True):
        event = StoredEvent.model_validate(stored)
        assert (record.key, record.message_id) == (event.dedupe_key, event.message_id)
        assert (record.person, record.occurred_at) == (event.person, event.occurred_at)


@settings(max_examples=600, deadline=None)
@given(message=_message(), untyped=st.booleans())
def test_single_messages_match_the_models(message: dict[str, Any], untyped: bool) -> None:
    endpoint: Endpoint = message.get("type") if message.get("type") in _ENDPOINTS else "track"
    if untyped:  # the single endpoints take the type from the path
        message.pop("type", None)
    _compare(message, endpoint)


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(_message(), min_size=1, max_size=3),
    shared=st.dictionaries(st.sampled_from(["context", "integrations", "sentAt"]), _JSON),
)
def test_batches_match_the_models(messages: list[dict[str, Any]], shared: dict[str, Any]) -> None:
    _compare({**shared, "batch": messages}, "batch")


def test_what_the_official_libraries_send_takes_the_fast_path() -> None:
    library = {"library": {"name": "analytics-python", "version": "2.3.4"}}
    batch = [
        {
            "type": "track",
            "messageId": "m1",
            "userId": "member-42",
            "anonymousId": None,
            "event": "Product Viewed",
            "properties": {"product_id": "P9", "price": 28.5},
            "context": library,
            "integrations": {},
            "timestamp": "2026-11-23T09:29:58.123456+00:00",
        },
        {"type": "page", "messageId": "m2", "anonymousId": "a1", "name": "Menu", "category": None},
        {"type": "identify", "messageId": "m3", "userId": 42, "traits": {"plan": "gold"}},
    ]
    request = read_body(
        json.dumps({"batch": batch, "sentAt": "2026-11-23T09:30:00Z"}).encode(),
        endpoint="batch",
        content_encoding=None,
    )
    got = fast.records(request, endpoint="batch", source="app", received_at=NOW)
    assert got is not None and [r.message_id for r in got] == ["m1", "m2", "m3"]
    assert got[0].occurred_at == dt.datetime(2026, 11, 23, 9, 29, 58, 123456, tzinfo=dt.UTC)
