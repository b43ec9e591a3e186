"""What one server process holds open: settings, the OLTP engine, the stream stores, the intake
committer, the lake, the PII protector, the background flusher and the write-key cache; opened by the
app's lifespan, closed with it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from newretail.api.committer import Committer
from newretail.api.flusher import BackgroundFlusher
from newretail.api.writekeys import WriteKeyCache
from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import check_current, engine_from_settings
from newretail.security.pii import PiiProtector
from newretail.stream import Stores, open_stores

DEFAULT_STREAM_PREFIX = "newretail:"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    stores: Stores
    lake: Lake
    protector: PiiProtector
    flusher: BackgroundFlusher | None
    write_keys: WriteKeyCache
    committer: Committer

    def close(self) -> None:
        """Commit queued intake, stop the flusher (it drains first), close the stores and engine."""
        try:
            self.committer.close()
            if self.flusher is not None:
                self.flusher.stop()
        finally:
            self.stores.close()
            self.engine.dispose()


def open_runtime(
    settings: Settings, *, stream_prefix: str = DEFAULT_STREAM_PREFIX, flush: bool = True
) -> Runtime:
    """Open everything, or raise ``DatabaseNotReady`` (un-migrated or unreachable OLTP) first."""
    engine = engine_from_settings(settings)
    try:
        check_current(engine)
        protector = PiiProtector.from_settings(settings)
        stores = open_stores(settings, prefix=stream_prefix)
    except BaseException:
        engine.dispose()
        raise
    lake = Lake(settings.lake_dir)
    flusher = None
    if flush:
        flusher = BackgroundFlusher(
            log=stores.log, lake=lake, lock_path=settings.home / "stream" / "flusher.lock"
        )
        flusher.start()
    return Runtime(
        settings, engine, stores, lake, protector, flusher, WriteKeyCache(engine), Committer(stores)
    )
