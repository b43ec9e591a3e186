"""Which server process runs a background job that needs only one runner: whoever holds an ``flock``
on a file in NEWRETAIL_HOME. The kernel drops the lock when its holder dies, even by kill -9, so
another process takes over on its next try."""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO


class LeaderLock:
    """A non-blocking, process-wide claim on ``path``; one instance per job per process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def held(self) -> bool:
        """True when this process holds the lock, taking it now if it is free."""
        if self._file is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None
