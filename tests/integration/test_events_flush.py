"""The flusher over both twins: stream → ODS app_events partitions, exactly once per message id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest
from tests.unit.stream.backends import Backend
from tests.unit.stream.backends import backend as backend

from newretail.config import Settings
from newretail.ingest.events import accept, compact, flush, flush_once
from newretail.lake.storage import Lake
from newretail.model import table
from newretail.stream import Entry, EventLog

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
SPEC = table("app_events")


@pytest.fixture
def lake(settings: Settings) -> Lake:
    return Lake(settings.lake_dir)


def _send(backend: Backend, messages: list[dict[str, Any]], source: str = "app") -> None:
    stores = backend.stores
    body = json.dumps({"batch": messages}).encode()
    accept(
        body, endpoint="batch", source=source, received_at=NOW, log=stores.log, dedupe=stores.dedupe
    )


def _rows(lake: Lake) -> list[dict[str, Any]]:
    out = []
    for partition in lake.partitions("ods", "app_events"):
        for row in lake.read_partition("ods", "app_events", partition).to_pylist():
            out.append({**row, **partition})
    return sorted(out, key=lambda r: (r["source"], r["message_id"]))


MESSAGES: list[dict[str, Any]] = [
    {
        "type": "track",
        "messageId": "t1",
        "userId": "u1",
        "anonymousId": "a1",
        "event": "Product Added",
        "properties": {"product_id": "P9", "storeId": 12, "price": 28},
        "timestamp": "2026-11-22T23:59:59Z",
    },
    {
        "type": "page",
        "messageId": "p1",
        "anonymousId": "a1",
        "name": "Menu",
        "timestamp": "2026-11-23T00:00:00Z",
    },
    {"type": "identify", "messageId": "i1", "userId": "u1", "traits": {"phone": "13800138000"}},
    {"type": "alias", "messageId": "al1", "userId": "u1", "previousId": "a1"},
    {"type": "group", "messageId": "g1", "userId": "u1", "groupId": "company-1"},
]


def test_events_land_in_ods_partitions_with_canonical_columns(backend: Backend, lake: Lake) -> None:
    _send(backend, MESSAGES)
    _send(backend, [{**MESSAGES[0], "messageId": "t2"}], source="mini_program")
    result = flush(log=backend.stores.log, lake=lake, consumer="f1")
    assert (result.entries, result.rows, result.stream_only) == (6, 4, 2)
    assert result.partitions == (
        ("app", dt.date(2026, 11, 22)),
        ("app", dt.date(2026, 11, 23)),
        ("mini_program", dt.date(2026, 11, 22)),
    )
    file = lake.partition_file(
        "ods", "app_events", {"source": "app", "business_date": dt.date(2026, 11, 22)}
    )
    assert file.name == "data.parquet"
    data = lake.read_partition(
        "ods", "app_events", {"source": "app", "business_date": dt.date(2026, 11, 22)}
    )
    assert data.schema.names == [n for n in SPEC.schema.names if n not in SPEC.partition_by]
    assert data.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    rows = {(r["source"], r["message_id"]): r for r in _rows(lake)}
    track = rows[("app", "t1")]
    assert (track["type"], track["event"], track["user_id"], track["anonymous_id"]) == (
        "track",
        "Product Added",
        "u1",
        "a1",
    )
    assert (track["product_id"], track["store_id"]) == ("P9", "12")
    assert track["occurred_at"] == dt.datetime(2026, 11, 22, 23, 59, 59, tzinfo=dt.UTC)
    assert json.loads(track["properties"]) == {"product_id": "P9", "storeId": 12, "price": 28}
    assert rows[("app", "p1")]["event"] == "Menu"
    identify = rows[("app", "i1")]
    assert identify["type"] == "identify" and identify["occurred_at"] == NOW
    assert "13800138000" not in identify["properties"]  # trait values stay out of the lake
    assert set(rows) == {("app", "t1"), ("app", "p1"), ("app", "i1"), ("mini_program", "t2")}
    assert flush(log=backend.stores.log, lake=lake, consumer="f1").entries == 0


class _CrashOnAck(EventLog):
    """A log whose ack fails, as if the flusher died after writing the partition."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner

    def append(self, payloads: Sequence[bytes]) -> list[str]:
        return self.inner.append(payloads)

    def read(self, group: str, consumer: str, *, count: int) -> list[Entry]:
        return self.inner.read(group, consumer, count=count)

    def ack(self, group: str, ids: Sequence[str]) -> None:
        raise RuntimeError("killed between partition write and ack")

    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        return self.inner.claim(group, consumer, min_idle_ms=min_idle_ms, count=count)

    def trim(self) -> int:
        return self.inner.trim()

    def close(self) -> None:
        self.inner.close()


def test_rerun_after_a_crash_between_write_and_ack_adds_no_duplicate(
    backend: Backend, lake: Lake
) -> None:
    _send(backend, MESSAGES)
    log = backend.stores.log
    with pytest.raises(RuntimeError):
        flush_once(log=_CrashOnAck(log), lake=lake, consumer="dead")
    first = _rows(lake)
    assert len(first) == 3
    # The next flusher takes over what the dead one left pending and writes it again.
    again = flush_once(log=log, lake=lake, consumer="alive", claim_idle_ms=0)
    assert (again.entries, again.rows) == (5, 0)
    assert _rows(lake) == first
    assert flush(log=log, lake=lake, consumer="alive").entries == 0


def test_a_message_appended_twice_lands_once(backend: Backend, lake: Lake) -> None:
    _send(backend, MESSAGES[:2])
    flush(log=backend.stores.log, lake=lake, consumer="f")
    # A retry that slipped past dedupe (a crash between append and remember) reaches the log again.
    log = backend.stores.log
    _send(backend, [MESSAGES[0]])  # dropped by dedupe
    log.append([e.payload for e in log.read("replay", "r", count=1)])
    _send(backend, [{**MESSAGES[1], "messageId": "p2"}])
    result = flush(log=backend.stores.log, lake=lake, consumer="f")
    assert (result.entries, result.rows) == (2, 1)
    assert [r["message_id"] for r in _rows(lake)] == ["p1", "p2", "t1"]


def test_staged_micro_batches_reach_the_lake_once_when_compacted(
    backend: Backend, lake: Lake
) -> None:
    _send(backend, MESSAGES)
    log = backend.stores.log
    with pytest.raises(RuntimeError):
        flush_once(log=_CrashOnAck(log), lake=lake, consumer="dead", compact=False)
    assert _rows(lake) == []  # staged beside the lake, not in it yet
    # The entries come back to the next flusher and are staged a second time.
    again = flush_once(log=log, lake=lake, consumer="alive", claim_idle_ms=0, compact=False)
    assert (again.entries, again.rows) == (5, 0)
    assert compact(lake=lake) == 3
    assert len(_rows(lake)) == 3
    assert compact(lake=lake) == 0
    assert lake.leftover_temporaries() == []


def test_a_compaction_cut_short_before_removing_its_parts_adds_nothing_later(
    backend: Backend, lake: Lake
) -> None:
    _send(backend, MESSAGES)
    flush_once(log=backend.stores.log, lake=lake, consumer="f", compact=False)
    parts = sorted(lake.root.rglob("part-*.parquet"))
    saved = {part: part.read_bytes() for part in parts}
    assert compact(lake=lake) == 3
    for part, data in saved.items():  # as if the process had died before deleting them
        part.write_bytes(data)
    assert compact(lake=lake) == 0
    assert len(_rows(lake)) == 3
    assert list(lake.root.rglob("part-*.parquet")) == []
