"""The nightly job: refresh every tag (with the user-defined ones), publish the snapshots, and
recount every live audience on them so its size history gains a point."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import Engine as Database

from newretail.audience.indexes import IndexHolder
from newretail.audience.service import refresh_saved
from newretail.config import Settings
from newretail.lake import Lake, connect_engine
from newretail.progress import Progress
from newretail.tags.catalogue import Catalogue
from newretail.tags.refresh import RefreshReport, refresh_and_index
from newretail.tags.user_tags import user_tags


@dataclass(frozen=True)
class NightlyReport:
    tags: RefreshReport
    audiences: int
    audience_seconds: float


def refresh_everything(
    settings: Settings,
    database: Database,
    *,
    as_of: dt.date | None,
    progress: Progress,
    now: dt.datetime,
) -> NightlyReport:
    """Tags of every store and person as of ``as_of`` (the lake's newest trading day if None),
    then the saved audiences' sizes."""
    with database.connect() as conn:
        catalogue = Catalogue.shipped().with_tags(user_tags(conn))
    counted: dict[str, int] = {}
    seconds = 0.0

    def recount() -> None:
        nonlocal counted, seconds
        started = time.perf_counter()
        indexes = IndexHolder(settings.index_dir).get()
        counted = refresh_saved(database, indexes, now=now)
        seconds = time.perf_counter() - started

    with connect_engine(settings.engine) as engine:
        report = refresh_and_index(
            Lake(settings.lake_dir),
            engine,
            catalogue,
            index_dir=settings.index_dir,
            as_of=as_of,
            progress=progress,
            on_published=recount,
        )
    return NightlyReport(tags=report, audiences=len(counted), audience_seconds=seconds)
