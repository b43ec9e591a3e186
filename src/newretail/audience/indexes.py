"""The tag snapshots a process answers audience questions from: the newest person and store
indexes, swapped for a newer version when a tag refresh publishes one."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from newretail.errors import NotFound
from newretail.tags.index import TagIndex
from newretail.tags.snapshot import current_version, load_snapshot
from newretail.tags.spec import Entity

# How stale a worker's view may be: at most one stat of the CURRENT files per second.
_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Indexes:
    """One consistent pair: the person index and the store index published with it (or None)."""

    persons: TagIndex
    stores: TagIndex | None

    def of(self, entity: Entity) -> TagIndex:
        if entity == "person":
            return self.persons
        if self.stores is None:
            raise NotFound("tags.no_store_tags", "no store tags have been computed yet")
        return self.stores


class IndexHolder:
    """Loads the current snapshots on first use and whenever a newer version appears.

    Loading maps the files and reads only their manifests, so a reload is cheap; answers already
    being computed on the previous pair finish on it.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._loaded: Indexes | None = None
        self._versions: tuple[int | None, int | None] = (None, None)
        self._checked = 0.0

    @property
    def root(self) -> Path:
        return self._root

    def get_or_none(self) -> Indexes | None:
        """The newest pair, or None before the first tag refresh."""
        try:
            return self.get()
        except NotFound:
            return None

    def get(self) -> Indexes:
        """The newest pair; NotFound ``tags.snapshot_missing`` before the first tag refresh."""
        now = time.monotonic()
        loaded = self._loaded
        if loaded is not None and now - self._checked < _CHECK_SECONDS:
            return loaded
        with self._lock:
            versions = (current_version(self._root, "person"), current_version(self._root, "store"))
            self._checked = now
            if self._loaded is None or versions != self._versions:
                if versions[0] is None:
                    raise NotFound(
                        "tags.snapshot_missing",
                        "no tags have been computed yet: run `newretail tags refresh`",
                    )
                stores = (
                    None if versions[1] is None else load_snapshot(self._root, "store", versions[1])
                )
                self._loaded = Indexes(load_snapshot(self._root, "person", versions[0]), stores)
                self._versions = versions
            return self._loaded
