"""Segment intake over both twins: validation and rejections, size limits, dedupe, counters."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest
from tests.unit.stream.backends import Backend
from tests.unit.stream.backends import backend as backend

from newretail.ingest.events import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    AcceptResult,
    Endpoint,
    EventRejected,
    StoredEvent,
    accept,
)
from newretail.ingest.events.body import compact_size

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def _send(
    backend: Backend,
    body: bytes | dict[str, Any],
    endpoint: Endpoint = "batch",
    *,
    encoding: str | None = None,
    at: dt.datetime = NOW,
) -> AcceptResult:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stores = backend.stores
    return accept(
        raw,
        endpoint=endpoint,
        source="app",
        received_at=at,
        log=stores.log,
        dedupe=stores.dedupe,
        counters=stores.counters,
        content_encoding=encoding,
    )


def _logged(backend: Backend) -> list[StoredEvent]:
    return [
        StoredEvent.from_bytes(e.payload) for e in backend.stores.log.read("t", "t", count=10_000)
    ]


def _track(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "messageId": f"m{n}", "userId": "u1", "event": "Viewed", **extra}


def test_every_kind_is_accepted_and_normalised(backend: Backend) -> None:
    batch = [
        _track(1, properties={"product_id": 7}, timestamp="2026-11-23T17:00:00+08:00"),
        {"type": "page", "messageId": "m2", "anonymousId": "a1", "name": "Home"},
        {"type": "screen", "messageId": "m3", "anonymousId": "a1", "name": "Menu"},
        {"type": "identify", "messageId": "m4", "userId": 42, "traits": {"tier": "gold"}},
        {"type": "group", "messageId": "m5", "userId": "u1", "groupId": "g1"},
        {"type": "alias", "messageId": "m6", "userId": "u1", "previousId": "a1"},
    ]
    result = _send(backend, {"batch": batch, "writeKey": "secret", "context": {"ip": "1.2.3.4"}})
    assert result == AcceptResult(6, 0, ("m1", "m2", "m3", "m4", "m5", "m6"))
    events = _logged(backend)
    assert [e.type for e in events] == ["track", "page", "screen", "identify", "group", "alias"]
    assert events[0].occurred_at == dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    assert events[0].context == {"ip": "1.2.3.4"}
    assert events[3].user_id == "42"
    assert events[4].group_id == "g1" and events[5].previous_id == "a1"
    assert all(e.source == "app" and e.received_at == NOW for e in events)
    assert b"secret" not in b"".join(e.to_bytes() for e in events)


def test_single_endpoint_and_unknown_fields(backend: Backend) -> None:
    body = {
        "userId": "u1",
        "event": "Tapped",
        "channel": "mobile",
        "receivedAt": "x",
        "writeKey": "k",
    }
    result = _send(backend, body, "track")
    assert result.accepted == 1 and result.message_ids[0].startswith("derived-")
    [event] = _logged(backend)
    assert event.type == "track" and event.extra == {"channel": "mobile"}
    assert event.occurred_at == NOW  # no client time: the receipt time


def test_sent_at_corrects_the_device_clock(backend: Backend) -> None:
    # The device clock is 10 minutes fast: sentAt reads 09:40 when the server receives at 09:30.
    body = {
        "sentAt": "2026-11-23T09:40:00Z",
        "batch": [{**_track(1), "originalTimestamp": "2026-11-23T09:35:00Z"}],
    }
    _send(backend, body)
    [event] = _logged(backend)
    assert event.occurred_at == dt.datetime(2026, 11, 23, 9, 25, tzinfo=dt.UTC)


def test_naive_timestamp_is_utc(backend: Backend) -> None:
    _send(backend, _track(1, timestamp="2026-11-23T08:00:00"), "track")
    assert _logged(backend)[0].occurred_at == dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)


def test_duplicates_are_dropped_across_and_within_requests(backend: Backend) -> None:
    assert _send(backend, {"batch": [_track(1), _track(2), _track(1)]}) == AcceptResult(
        2, 1, ("m1", "m2", "m1")
    )
    later = NOW + dt.timedelta(hours=1)
    assert _send(backend, {"batch": [_track(2), _track(3)]}, at=later) == AcceptResult(
        1, 1, ("m2", "m3")
    )
    assert [e.message_id for e in _logged(backend)] == ["m1", "m2", "m3"]


def test_same_message_id_from_another_source_is_not_a_duplicate(backend: Backend) -> None:
    stores = backend.stores
    for source in ("app", "mini_program"):
        accept(
            json.dumps(_track(1)).encode(),
            endpoint="track",
            source=source,
            received_at=NOW,
            log=stores.log,
            dedupe=stores.dedupe,
        )
    assert [e.source for e in _logged(backend)] == ["app", "mini_program"]


BAD: list[tuple[str, Endpoint, bytes | dict[str, Any], str, str | None, str | None]] = [
    ("not json", "track", b'{"userId": ', "events.malformed_json", None, "line 1 column 12"),
    ("not an object", "track", b"[1, 2]", "events.malformed_json", None, "body"),
    (
        "nan",
        "track",
        b'{"userId":"u","event":"e","properties":{"x":NaN}}',
        "events.malformed_json",
        None,
        None,
    ),
    ("not utf-8", "track", b'{"userId":"\xff"}', "events.malformed_json", None, None),
    (
        "unknown type",
        "batch",
        {"batch": [{"type": "purchase", "userId": "u"}]},
        "events.unknown_type",
        "type",
        "batch[0]",
    ),
    ("no type", "batch", {"batch": [{"userId": "u"}]}, "events.unknown_type", "type", "batch[0]"),
    (
        "type mismatch",
        "track",
        {"type": "page", "userId": "u"},
        "events.type_mismatch",
        "type",
        "body",
    ),
    ("no identity", "track", {"event": "e"}, "events.missing_identity", None, "body"),
    (
        "empty identity",
        "track",
        {"event": "e", "userId": ""},
        "events.missing_identity",
        None,
        "body",
    ),
    ("no event", "track", {"userId": "u"}, "events.missing_field", "event", "body"),
    ("empty event", "track", {"userId": "u", "event": ""}, "events.invalid_field", "event", "body"),
    (
        "bad timestamp",
        "track",
        {"userId": "u", "event": "e", "timestamp": "yesterday"},
        "events.invalid_timestamp",
        "timestamp",
        "body",
    ),
    (
        "epoch timestamp",
        "page",
        {"userId": "u", "timestamp": 1700000000},
        "events.invalid_timestamp",
        "timestamp",
        "body",
    ),
    (
        "properties not object",
        "page",
        {"userId": "u", "properties": [1]},
        "events.invalid_field",
        "properties",
        "body",
    ),
    ("group without groupId", "group", {"userId": "u"}, "events.missing_field", "groupId", "body"),
    (
        "alias without previousId",
        "alias",
        {"userId": "u"},
        "events.missing_field",
        "previousId",
        "body",
    ),
    (
        "alias without userId",
        "alias",
        {"anonymousId": "a", "previousId": "p"},
        "events.missing_field",
        "userId",
        "body",
    ),
    (
        "no batch",
        "batch",
        {"sentAt": "2026-11-23T09:30:00Z"},
        "events.missing_field",
        "batch",
        None,
    ),
    (
        "batch not a list",
        "batch",
        {"batch": {"type": "track"}},
        "events.invalid_field",
        "batch",
        None,
    ),
    (
        "batch item not object",
        "batch",
        {"batch": [_track(1), "x"]},
        "events.invalid_field",
        None,
        "batch[1]",
    ),
    (
        "bad batch sentAt",
        "batch",
        {"sentAt": "soon", "batch": [_track(1)]},
        "events.invalid_timestamp",
        "sentAt",
        None,
    ),
]


@pytest.mark.parametrize(
    ("endpoint", "body", "code", "field", "position"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_payload_is_rejected_and_nothing_kept(
    backend: Backend,
    endpoint: Endpoint,
    body: bytes | dict[str, Any],
    code: str,
    field: str | None,
    position: str | None,
) -> None:
    with pytest.raises(EventRejected) as caught:
        _send(backend, body, endpoint)
    assert (caught.value.code, caught.value.field, caught.value.position) == (code, field, position)
    assert caught.value.http_status == 400
    assert _logged(backend) == []


def test_one_bad_event_rejects_the_whole_batch(backend: Backend) -> None:
    batch = [_track(1), _track(2), {"type": "track", "messageId": "m3", "event": "e"}, _track(4)]
    with pytest.raises(EventRejected) as caught:
        _send(backend, {"batch": batch})
    assert (caught.value.code, caught.value.position) == ("events.missing_identity", "batch[2]")
    assert _logged(backend) == []
    assert backend.stores.counters.activity("u1", day=NOW.date()).events_on_day == 0
    # Nothing was remembered either: the corrected batch goes through whole.
    batch[2] = _track(3)
    assert _send(backend, {"batch": batch}).accepted == 4


def _padded_track(size: int) -> dict[str, Any]:
    """A track message whose compact JSON is exactly ``size`` bytes."""
    message = _track(1, properties={"pad": ""})
    message["properties"]["pad"] = "x" * (size - compact_size(message))
    assert compact_size(message) == size
    return message


@pytest.mark.parametrize(("size", "ok"), [(MAX_EVENT_BYTES, True), (MAX_EVENT_BYTES + 1, False)])
def test_single_event_limit_is_32_kib(backend: Backend, size: int, ok: bool) -> None:
    body = json.dumps(_padded_track(size), separators=(",", ":")).encode()
    assert len(body) == size
    if ok:
        assert _send(backend, body, "track").accepted == 1
    else:
        with pytest.raises(EventRejected) as caught:
            _send(backend, body, "track")
        assert (caught.value.code, caught.value.position) == ("events.event_too_large", "body")
        assert _logged(backend) == []


@pytest.mark.parametrize(("size", "ok"), [(MAX_EVENT_BYTES, True), (MAX_EVENT_BYTES + 1, False)])
def test_event_in_batch_limit_is_32_kib(backend: Backend, size: int, ok: bool) -> None:
    body = {"batch": [_track(0), _padded_track(size)]}
    if ok:
        assert _send(backend, body).accepted == 2
    else:
        with pytest.raises(EventRejected) as caught:
            _send(backend, body)
        assert (caught.value.code, caught.value.position) == ("events.event_too_large", "batch[1]")
        assert _logged(backend) == []


def _batch_of(size: int) -> bytes:
    """A valid batch body of exactly ``size`` bytes (JSON allows trailing whitespace)."""
    messages = [_track(n, properties={"pad": "y" * 20_000}) for n in range(size // 20_100)]
    body = json.dumps({"batch": messages}, separators=(",", ":")).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


@pytest.mark.parametrize(("size", "ok"), [(MAX_BATCH_BYTES, True), (MAX_BATCH_BYTES + 1, False)])
def test_batch_limit_is_500_kib(backend: Backend, size: int, ok: bool) -> None:
    body = _batch_of(size)
    if ok:
        assert _send(backend, body).accepted == size // 20_100
    else:
        with pytest.raises(EventRejected) as caught:
            _send(backend, body)
        assert (caught.value.code, caught.value.position) == ("events.batch_too_large", "body")
        assert _logged(backend) == []


def test_gzip_bodies(backend: Backend) -> None:
    assert (
        _send(
            backend, gzip.compress(json.dumps({"batch": [_track(1)]}).encode()), encoding="gzip"
        ).accepted
        == 1
    )
    bomb = gzip.compress(_batch_of(MAX_BATCH_BYTES) + b" ")
    assert len(bomb) < MAX_EVENT_BYTES
    with pytest.raises(EventRejected) as caught:
        _send(backend, bomb, encoding="gzip")
    assert caught.value.code == "events.batch_too_large"
    for body, encoding, code in [
        (b"not gzip", "gzip", "events.malformed_json"),
        (b"{}", "br", "events.unsupported_encoding"),
    ]:
        with pytest.raises(EventRejected) as caught:
            _send(backend, body, encoding=encoding)
        assert caught.value.code == code
    assert len(_logged(backend)) == 1


def test_counters_follow_accepted_events(backend: Backend) -> None:
    _send(backend, {"batch": [_track(1), _track(2, timestamp="2026-11-22T23:00:00Z")]})
    _send(backend, {"batch": [_track(1)]})  # a duplicate is not counted again
    _send(
        backend, {"type": "page", "anonymousId": "a9", "timestamp": "2026-11-23T01:00:00Z"}, "page"
    )
    u1 = backend.stores.counters.activity("u1", day=NOW.date())
    assert (u1.last_seen, u1.events_on_day) == (NOW, 1)
    assert backend.stores.counters.activity("u1", day=dt.date(2026, 11, 22)).events_on_day == 1
    assert backend.stores.counters.activity("a9", day=NOW.date()).events_on_day == 1
