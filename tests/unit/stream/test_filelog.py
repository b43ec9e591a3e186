"""The embedded log's own promises: torn-tail recovery, segment rolls, group commit, one writer."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from newretail.stream import FileEventLog, StreamUnavailable, segments


def _read_all(log: FileEventLog, group: str = "g") -> list[bytes]:
    return [entry.payload for entry in log.read(group, "c", count=1_000_000)]


def test_torn_tail_is_cut_and_appends_continue(tmp_path: Path) -> None:
    log = FileEventLog(tmp_path)
    log.append([b"kept-1", b"kept-2"])
    log.close()
    [(_, segment)] = segments.segment_files(tmp_path / "segments")
    with segment.open("ab") as handle:
        handle.write(b"\x10\x00\x00\x00\x01\x02")  # a header and part of a payload: a torn write
    reopened = FileEventLog(tmp_path)
    assert _read_all(reopened) == [b"kept-1", b"kept-2"]
    reopened.append([b"after"])
    assert _read_all(reopened, "h") == [b"kept-1", b"kept-2", b"after"]
    reopened.close()


def test_reads_cross_segments_and_trim_keeps_unacknowledged(tmp_path: Path) -> None:
    log = FileEventLog(tmp_path, segment_bytes=64)
    payloads = [f"event-{i:03d}".encode() * 3 for i in range(20)]
    ids = [entry_id for payload in payloads for entry_id in log.append([payload])]
    assert len(segments.segment_files(tmp_path / "segments")) > 2
    got = log.read("g", "c", count=5)
    assert [e.payload for e in got] == payloads[:5]
    log.ack("g", [e.id for e in got[:3]])
    assert log.trim() > 0
    reopened = FileEventLog(tmp_path, segment_bytes=64)
    assert [e.payload for e in reopened.read("g", "c", count=100)] == payloads[3:]
    assert [e.id for e in reopened.claim("g", "d", min_idle_ms=0, count=100)] == ids[3:]
    log.close()
    reopened.close()


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        time.sleep(0.005)  # a slow disk, so appenders pile up behind one fsync
        real_fsync(fd)

    log = FileEventLog(tmp_path)
    log.append([b"warm-up"])
    monkeypatch.setattr(segments.os, "fsync", slow_fsync)
    threads, per_thread = 8, 25
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(per_thread):
            got = log.append([f"{n}-{i}".encode()])
            with lock:
                ids.extend(got)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    appends = threads * per_thread
    assert len(set(ids)) == appends
    # Without group commit there would be one fsync per append. How many share one depends on
    # how the threads are scheduled: about a quarter on an idle machine, two thirds under load.
    assert calls < appends * 3 / 4
    assert len(_read_all(log)) == appends + 1
    log.close()


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    first = FileEventLog(tmp_path)
    first.append([b"x"])
    second = FileEventLog(tmp_path)
    with pytest.raises(StreamUnavailable) as caught:
        second.append([b"y"])
    assert caught.value.code == "stream.writer_busy"
    assert [e.payload for e in second.read("g", "c", count=10)] == [b"x"]  # readers need no lock
    first.close()
    second.append([b"y"])
    second.close()
