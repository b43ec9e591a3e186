"""Who an event is about, as a dense id: its user through OneID's links, then the snapshot's key map.

An event's ``userId`` is an identity record of the event's ``source`` (the app's uid for ``app``,
the WeChat openid for ``mini_program``), so ``identity_links`` (source, source_record_id) names its
person; a person merged into another since is followed to the live one, as real-time OneID does.
The dense id is the person's in the current snapshot's key map: a person the last refresh did not
index (created since) has none until the next refresh.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, select, tuple_

from newretail.identity.realtime import live_persons
from newretail.oltp.tables import identity_links
from newretail.tags.dense_ids import DenseIds
from newretail.tags.snapshot import DENSE_FILE, current_version
from newretail.tags.spec import Entity

UserKey = tuple[str, str]  # (source, user id)
_PER_QUERY = 2_000  # keys per statement: SQLite caps a statement's parameters
CACHED = 250_000  # dense ids a SnapshotKeys keeps (some 40 MB)


def persons_of_users(conn: Connection, keys: Collection[UserKey]) -> dict[UserKey, str]:
    """The live person each (source, user id) record is linked to; unlinked records are absent."""
    wanted = sorted(set(keys))
    linked: dict[UserKey, str] = {}
    key = tuple_(identity_links.c.source, identity_links.c.source_record_id)
    columns = (
        identity_links.c.source,
        identity_links.c.source_record_id,
        identity_links.c.person_id,
    )
    for start in range(0, len(wanted), _PER_QUERY):
        chunk = wanted[start : start + _PER_QUERY]
        for source, record, person in conn.execute(select(*columns).where(key.in_(chunk))):
            linked[(source, record)] = person
    # Merges are followed as real-time OneID follows them: to the live person.
    live = live_persons(conn, set(linked.values()))
    return {user: live[person][0] for user, person in linked.items()}


class SnapshotKeys:
    """The key map of an entity's current snapshot, reloaded when a refresh publishes a new one.

    A lookup scans the whole map (about 70 ms at 10M persons, however few keys are asked for), so
    the ids found are kept, up to :data:`CACHED` of them, until the next version.
    """

    def __init__(self, index_dir: Path, entity: Entity = "person") -> None:
        self._index_dir = index_dir
        self._entity = entity
        self._version: int | None = None
        self._dense: DenseIds | None = None
        self._cache: dict[str, int] = {}

    @property
    def version(self) -> int | None:
        """The snapshot version the loaded key map came with."""
        return self._version

    def get(self) -> DenseIds | None:
        """The current key map, None before the first snapshot."""
        version = current_version(self._index_dir, self._entity)
        if version is None:
            return None
        if version != self._version or self._dense is None:
            # Saved before CURRENT is swapped and only ever grown: it names every published id.
            self._dense = DenseIds.load(self._index_dir / self._entity / DENSE_FILE)
            self._version = version
            self._cache = {}
        return self._dense

    def ids_of(self, keys: Collection[str]) -> dict[str, int]:
        """The dense id of each key the current map holds (keys it lacks are absent)."""
        dense = self.get()
        if dense is None:
            return {}
        missing = sorted(set(keys) - self._cache.keys())
        if missing:
            found = dense.lookup(pa.array(missing, pa.string())).to_pylist()
            if len(self._cache) + len(missing) > CACHED:
                self._cache = {}
            self._cache.update((k, i) for k, i in zip(missing, found, strict=True) if i is not None)
        return {key: self._cache[key] for key in keys if key in self._cache}
