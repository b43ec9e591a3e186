"""Segment files of the embedded log: the single writer with group commit, and the reader.

A position in the log is a global byte offset (an LSN). Segment files are named by the LSN of their
first byte, so finding a record needs no index: take the last segment whose name is not above it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from newretail.stream import records
from newretail.stream.base import StreamUnavailable

_SUFFIX = ".log"
_CHUNK = 4 * records.MAX_RECORD  # always holds at least one whole record


def segment_files(directory: Path) -> list[tuple[int, Path]]:
    """``(base LSN, path)`` of every segment, oldest first."""
    if not directory.exists():
        return []
    return sorted((int(p.stem), p) for p in directory.glob(f"*{_SUFFIX}"))


def segment_path(directory: Path, base: int) -> Path:
    return directory / f"{base:020d}{_SUFFIX}"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentWriter:
    """Appends framed records; many threads' appends share one fsync (group commit).

    A writer holds ``writer.lock`` for its whole life, so two processes never append to one log. On
    start it cuts the last segment back to its last intact record: anything after it was never
    acknowledged, because an append returns only after an fsync that covers it.
    """

    def __init__(self, root: Path, *, segment_bytes: int) -> None:
        self._dir = root / "segments"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (root / "writer.lock").open("a")
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StreamUnavailable(
                "stream.writer_busy", f"another process is writing the event log at {root}"
            ) from None
        self._segment_bytes = segment_bytes
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        # fds replaced by a roll; closed by the next sync leader, never under a leader's feet.
        self._retired: list[int] = []
        segments = segment_files(self._dir)
        self._base = segments[-1][0] if segments else 0
        self._size = self._recover(segment_path(self._dir, self._base))
        self._fd = os.open(segment_path(self._dir, self._base), os.O_WRONLY | os.O_APPEND)
        self._written = self._synced = self._base + self._size

    def _recover(self, path: Path) -> int:
        with path.open("ab+") as handle:
            handle.seek(0)
            data = handle.read()
            end = records.valid_end(data)
            if end < len(data):
                handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(self._dir)
        return end

    def append(self, data: bytes) -> int:
        """Write ``data`` (whole framed records) durably; return the LSN where it starts."""
        with self._write_lock:
            if self._size and self._size + len(data) > self._segment_bytes:
                self._roll()
            start = self._base + self._size
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._size += len(data)
            self._written = start + len(data)
            target = self._written
        self._sync_to(target)
        return start

    def _sync_to(self, target: int) -> None:
        with self._sync_lock:
            if self._synced >= target:
                return  # another thread's fsync already covered these bytes
            with self._write_lock:
                upto, fd = self._written, self._fd
            # Everything before the current segment was fsynced when it was rolled.
            os.fsync(fd)
            self._synced = upto
            while self._retired:
                os.close(self._retired.pop())

    def _roll(self) -> None:
        os.fsync(self._fd)
        self._retired.append(self._fd)
        self._base += self._size
        self._size = 0
        self._fd = os.open(
            segment_path(self._dir, self._base), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )
        fsync_dir(self._dir)

    def close(self) -> None:
        with self._sync_lock, self._write_lock:
            os.fsync(self._fd)
            os.close(self._fd)
            for fd in self._retired:
                os.close(fd)
            self._retired.clear()
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()


def scan(directory: Path, lsn: int) -> Iterator[tuple[int, bytes]]:
    """``(LSN, payload)`` of each intact record from ``lsn`` on, across segments.

    Stops quietly at a torn or half-written tail of the newest segment (a writer may be mid-append);
    a bad record inside an older segment is corruption and raises.
    """
    segments = segment_files(directory)
    for index, (base, path) in enumerate(segments):
        following = segments[index + 1][0] if index + 1 < len(segments) else None
        if following is not None and following <= lsn:
            continue
        position = max(lsn - base, 0)
        with path.open("rb") as handle:
            while True:
                handle.seek(position)
                data = handle.read(_CHUNK)
                if not data:
                    break
                consumed = 0
                for offset, payload in records.decode(data):
                    yield base + position + offset, payload
                    consumed = offset + records.HEADER_SIZE + len(payload)
                if consumed == 0:
                    break
                position += consumed
        if following is None:
            return
        if base + position != following:
            raise StreamUnavailable(
                "stream.corrupt_segment", f"segment {path.name} has a bad record at byte {position}"
            )
