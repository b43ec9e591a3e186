"""One tag refresh: every tag of every store and person computed from the lake as of a business
date and published to the ADS layer, then indexed as bitmaps and published as a new snapshot
version. Runs one at a time (a lock file beside the snapshots)."""

from __future__ import annotations

import datetime as dt
import fcntl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newretail.lake import Engine, Lake
from newretail.progress import Progress
from newretail.tags.catalogue import Catalogue
from newretail.tags.compute import default_as_of, refresh_tags
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.snapshot import DENSE_FILE, write_snapshot
from newretail.tags.spec import ENTITIES, Entity


@dataclass(frozen=True)
class EntityRefresh:
    entity: Entity
    rows: int
    tags: int
    version: int
    compute_seconds: float
    index_seconds: float


@dataclass(frozen=True)
class RefreshReport:
    as_of: dt.date
    entities: list[EntityRefresh] = field(default_factory=list)


def refresh_and_index(
    lake: Lake,
    engine: Engine,
    catalogue: Catalogue,
    *,
    index_dir: Path,
    as_of: dt.date | None,
    progress: Progress,
    on_published: Callable[[], None] | None = None,
) -> RefreshReport:
    """Compute, index and publish the tags of both entities (stores first: person audiences join
    through them); ``on_published`` runs after both snapshots are in place (the saved audiences'
    recount)."""
    day = as_of or default_as_of(lake)
    index_dir.mkdir(parents=True, exist_ok=True)
    report = RefreshReport(as_of=day)
    with (index_dir / "refresh.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        task = progress.task(f"tags as of {day}", total=2 * len(ENTITIES))
        for entity in ("store", "person"):
            started = time.perf_counter()
            done = refresh_tags(lake, engine, catalogue, entity=entity, as_of=day)
            task.advance()
            computed = time.perf_counter()
            # The enum domains bound from the data (cities, stores) become part of the specs.
            specs = done.catalogue(catalogue).for_entity(entity)
            dense = DenseIds.load(index_dir / entity / DENSE_FILE)
            index = TagIndex.build_from_file(
                done.path, specs, entity=entity, as_of=day, dense=dense
            )
            version = write_snapshot(index_dir, index, dense=dense)
            task.advance()
            report.entities.append(
                EntityRefresh(
                    entity=entity,
                    rows=done.rows,
                    tags=len(specs),
                    version=version,
                    compute_seconds=computed - started,
                    index_seconds=time.perf_counter() - computed,
                )
            )
        if on_published is not None:
            on_published()
    return report
