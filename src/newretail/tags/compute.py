"""Computing tags and publishing them to the lake's ADS layer.

``refresh_tags`` writes ``ads/<entity>_tags/as_of=<date>/data.parquet`` (one row group per chunk of
keys) and then ``ads/<entity>_tags/manifest.json``, which names the latest refresh: its date, rows,
tags and the values of data-bound enum tags. Both files are swapped in atomically, the manifest
last, so a reader that follows the manifest sees a whole refresh; the refresh before it is kept for
readers still on it, older ones are removed.

>>> refresh = refresh_tags(lake, engine, Catalogue.shipped(), entity="person")  # doctest: +SKIP
>>> latest_refresh(lake, "person").as_of  # doctest: +SKIP
datetime.date(2026, 7, 19)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newretail.errors import NoData
from newretail.lake.engines import Engine
from newretail.lake.storage import Lake, replacing
from newretail.tags.catalogue import Catalogue
from newretail.tags.lists import TagLists
from newretail.tags.run import CHUNK_ROWS, TagRun
from newretail.tags.spec import Entity

log = logging.getLogger("newretail.tags")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TagRefresh:
    """One published refresh of an entity's tags."""

    entity: Entity
    as_of: dt.date
    path: Path
    rows: int
    tag_ids: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]  # data domain name (store_ids...) -> its values
    refreshed_at: dt.datetime
    seconds: float

    def catalogue(self, catalogue: Catalogue) -> Catalogue:
        """``catalogue`` with the data-bound enum values this refresh found."""
        return catalogue.bind(self.domains)


def tag_table(entity: Entity) -> str:
    """The ADS table holding an entity's tags."""
    return f"{entity}_tags"


def default_as_of(lake: Lake) -> dt.date:
    """The newest business date with orders in the lake."""
    dates = [p["business_date"] for p in lake.partitions("dwd", "orders") if "business_date" in p]
    if not dates:
        raise NoData("tags.no_orders", "the lake holds no DWD orders: run `newretail build` first")
    return dt.date.fromisoformat(max(dates))


def compute_tags(
    lake: Lake,
    engine: Engine,
    catalogue: Catalogue,
    *,
    entity: Entity,
    as_of: dt.date,
    lists: TagLists | None = None,
) -> pa.Table:
    """The entity's tags as of the end of ``as_of``: its key and one column per tag (typed by
    ``spec.arrow_type``, in catalogue order), one row per person or store, sorted by key."""
    run = TagRun(lake, engine, catalogue, entity=entity, as_of=as_of, lists=lists)
    return pa.concat_tables(run.chunks()).combine_chunks()


def refresh_tags(
    lake: Lake,
    engine: Engine,
    catalogue: Catalogue,
    *,
    entity: Entity = "person",
    as_of: dt.date | None = None,
    lists: TagLists | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> TagRefresh:
    """Compute the entity's tags (as of the newest order date unless given) and publish them."""
    start = time.perf_counter()
    table = tag_table(entity)
    with lake.writer(("ads", table)):
        day = as_of or default_as_of(lake)
        run = TagRun(
            lake, engine, catalogue, entity=entity, as_of=day, lists=lists, chunk_rows=chunk_rows
        )
        final = lake.partition_file("ads", table, {"as_of": day})
        final.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with replacing(final, suffix=".parquet") as handle:
            writer = pq.ParquetWriter(handle, run.schema, compression="zstd")
            try:
                for chunk in run.chunks():
                    writer.write_table(chunk, row_group_size=256_000)
                    rows += chunk.num_rows
            finally:
                writer.close()
        previous = latest_refresh(lake, entity)
        refresh = TagRefresh(
            entity=entity,
            as_of=day,
            path=final,
            rows=rows,
            tag_ids=tuple(s.id for s in run.specs),
            domains=dict(run.domains),
            refreshed_at=dt.datetime.now(dt.UTC),
            seconds=time.perf_counter() - start,
        )
        _write_manifest(lake, refresh)
        keep = {day.isoformat()} | ({previous.as_of.isoformat()} if previous else set())
        for partition in lake.partitions("ads", table):
            if partition.get("as_of") not in keep:
                lake.delete_partition("ads", table, partition)
    log.info(
        "tags.refreshed entity=%s as_of=%s rows=%d tags=%d seconds=%.1f",
        entity,
        day,
        rows,
        len(refresh.tag_ids),
        refresh.seconds,
    )
    return refresh


def latest_refresh(lake: Lake, entity: Entity) -> TagRefresh | None:
    """The refresh the manifest names, or None before the first one."""
    path = lake.table_dir("ads", tag_table(entity)) / MANIFEST
    if not path.exists():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    return TagRefresh(
        entity=entity,
        as_of=dt.date.fromisoformat(doc["as_of"]),
        path=lake.root / doc["path"],
        rows=int(doc["rows"]),
        tag_ids=tuple(doc["tag_ids"]),
        domains={k: tuple(v) for k, v in doc["domains"].items()},
        refreshed_at=dt.datetime.fromisoformat(doc["refreshed_at"]),
        seconds=float(doc["seconds"]),
    )


def _write_manifest(lake: Lake, refresh: TagRefresh) -> None:
    doc = {
        "entity": refresh.entity,
        "as_of": refresh.as_of.isoformat(),
        "path": str(refresh.path.relative_to(lake.root)),
        "rows": refresh.rows,
        "tag_ids": list(refresh.tag_ids),
        "domains": {k: list(v) for k, v in refresh.domains.items()},
        "refreshed_at": refresh.refreshed_at.isoformat(),
        "seconds": round(refresh.seconds, 3),
    }
    target = lake.table_dir("ads", tag_table(refresh.entity)) / MANIFEST
    with replacing(target, suffix=".json") as handle:
        handle.write(json.dumps(doc, ensure_ascii=False, indent=1).encode())
