"""Uploaded lists: a named set of person or store ids that a ``list`` tag marks true.

Each list is one Parquet file of one column (the entity key) under ``<home>/tag_lists/<entity>/``,
replaced atomically on upload.

>>> lists = TagLists(home / "tag_lists")  # doctest: +SKIP
>>> lists.upload("vip_2026", "person", ["P227O5LIASDZ7"])  # doctest: +SKIP
1
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newretail.errors import InvalidInput, NotFound
from newretail.lake.storage import replacing
from newretail.tags.catalogue import TAG_ID
from newretail.tags.spec import ENTITY_KEYS, Entity


class TagLists:
    """The uploaded lists under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def of_home(cls, home: Path) -> TagLists:
        return cls(Path(home) / "tag_lists")

    def path(self, name: str, entity: Entity) -> Path:
        if not TAG_ID.fullmatch(name):
            raise InvalidInput(
                "tags.invalid_list_name",
                f"list name {name!r} must match [a-z][a-z0-9_]*",
                field="name",
            )
        return self.root / entity / f"{name}.parquet"

    def schema(self, entity: Entity) -> pa.Schema:
        return pa.schema([pa.field(ENTITY_KEYS[entity], pa.string(), nullable=False)])

    def upload(self, name: str, entity: Entity, keys: Iterable[str]) -> int:
        """Replace list ``name`` with the distinct non-empty ``keys``; how many it holds."""
        distinct = sorted({k.strip() for k in keys if k and k.strip()})
        target = self.path(name, entity)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table([pa.array(distinct, pa.string())], schema=self.schema(entity))
        with replacing(target, suffix=".parquet") as handle:
            pq.write_table(table, handle, compression="zstd")
        return len(distinct)

    def exists(self, name: str, entity: Entity) -> bool:
        return self.path(name, entity).exists()

    def keys(self, name: str, entity: Entity) -> list[str]:
        path = self.path(name, entity)
        if not path.exists():
            raise NotFound("tags.list_missing", f"no uploaded {entity} list named {name!r}")
        column = pq.read_table(path).column(0)
        return [str(k) for k in column.to_pylist()]

    def names(self, entity: Entity) -> list[str]:
        folder = self.root / entity
        if not folder.exists():
            return []
        return sorted(p.stem for p in folder.glob("*.parquet") if TAG_ID.fullmatch(p.stem))

    def delete(self, name: str, entity: Entity) -> None:
        self.path(name, entity).unlink(missing_ok=True)
