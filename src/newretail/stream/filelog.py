"""The embedded event log: segment files under NEWRETAIL_HOME/stream plus durable consumer-group offsets.

One process appends (it holds the writer lock); consumers may run in the same or another process.
A group's committed offset is the LSN below which it has acknowledged everything; it is written with
fsync on ack. What a group was given but had not acknowledged when its process died is handed out
again by the next :meth:`FileEventLog.read`, so delivery is at-least-once.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newretail.stream import records
from newretail.stream.base import Entry, EventLog
from newretail.stream.segments import SegmentWriter, fsync_dir, scan, segment_files

_GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
DEFAULT_SEGMENT_BYTES = 64 << 20


@dataclass
class _Group:
    committed: int
    delivered: int
    # LSN -> (consumer, when given, monotonic seconds)
    pending: dict[int, tuple[str, float]] = field(default_factory=dict)


class FileEventLog(EventLog):
    """Durable in-process log rooted at ``root`` (e.g. ``NEWRETAIL_HOME/stream/events``).

    >>> log = FileEventLog(tmp_path / "events")  # doctest: +SKIP
    >>> ids = log.append([b'{"a": 1}'])  # doctest: +SKIP
    """

    def __init__(
        self,
        root: Path,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = Path(root)
        self._segments = self._root / "segments"
        self._groups_dir = self._root / "groups"
        self._segment_bytes = segment_bytes
        self._monotonic = monotonic
        self._writer: SegmentWriter | None = None
        self._writer_lock = threading.Lock()
        self._group_lock = threading.Lock()
        self._groups: dict[str, _Group] = {}

    # -- appending ---------------------------------------------------------------------------
    def append(self, payloads: Sequence[bytes]) -> list[str]:
        if not payloads:
            return []
        data, starts = records.encode(payloads)
        start = self._ensure_writer().append(data)
        return [str(start + offset) for offset in starts]

    def _ensure_writer(self) -> SegmentWriter:
        # Taken lazily so a consumer-only process never contends for the writer lock.
        with self._writer_lock:
            if self._writer is None:
                self._writer = SegmentWriter(self._root, segment_bytes=self._segment_bytes)
            return self._writer

    # -- consuming ---------------------------------------------------------------------------
    def read(self, group: str, consumer: str, *, count: int) -> list[Entry]:
        with self._group_lock:
            state = self._group(group)
            out: list[Entry] = []
            if count <= 0:
                return out
            now = self._monotonic()
            for lsn, payload in scan(self._segments, state.delivered):
                out.append(Entry(str(lsn), payload))
                state.pending[lsn] = (consumer, now)
                state.delivered = lsn + records.HEADER_SIZE + len(payload)
                if len(out) >= count:
                    break
            return out

    def ack(self, group: str, ids: Sequence[str]) -> None:
        with self._group_lock:
            state = self._group(group)
            for entry_id in ids:
                state.pending.pop(int(entry_id), None)
            committed = min(state.pending) if state.pending else state.delivered
            if committed != state.committed:
                state.committed = committed
                self._save(group, committed)

    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        with self._group_lock:
            state = self._group(group)
            now = self._monotonic()
            stale = sorted(
                lsn
                for lsn, (_, since) in state.pending.items()
                if (now - since) * 1000 >= min_idle_ms
            )[:count]
            out = []
            for lsn in stale:
                payload = next(scan(self._segments, lsn))[1]
                state.pending[lsn] = (consumer, now)
                out.append(Entry(str(lsn), payload))
            return out

    def trim(self) -> int:
        """Delete whole segments below every group's committed offset (never the newest one)."""
        with self._group_lock:
            offsets = [self._load(path.stem) for path in self._groups_dir.glob("*.offset")]
        if not offsets:
            return 0
        floor = min(offsets)
        segments = segment_files(self._segments)
        dropped = 0
        for (_, path), (following, _) in itertools.pairwise(segments):
            if following > floor:
                break
            dropped += sum(1 for _ in records.decode(path.read_bytes()))
            path.unlink()
        if dropped:
            fsync_dir(self._segments)
        return dropped

    # -- group offsets -----------------------------------------------------------------------
    def _group(self, group: str) -> _Group:
        if not _GROUP_NAME.match(group):
            raise ValueError(f"unusable consumer group name {group!r}")
        state = self._groups.get(group)
        if state is None:
            committed = self._load(group)
            state = self._groups[group] = _Group(committed=committed, delivered=committed)
            self._save(group, committed)  # a group exists from its first read: trim respects it
        return state

    def _load(self, group: str) -> int:
        path = self._groups_dir / f"{group}.offset"
        return int(path.read_text()) if path.exists() else 0

    def _save(self, group: str, committed: int) -> None:
        self._groups_dir.mkdir(parents=True, exist_ok=True)
        final = self._groups_dir / f"{group}.offset"
        tmp = self._groups_dir / f".{group}.offset.tmp"
        with tmp.open("w") as handle:
            handle.write(str(committed))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(final)
        fsync_dir(self._groups_dir)

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
