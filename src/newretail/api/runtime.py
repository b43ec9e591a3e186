"""What one server process holds open: settings, the OLTP engine, the stream stores, the intake
committer, the lake, the PII protector, the background flusher, the key caches and the flash-sale
engine, gate and worker, the tag snapshots and the trade outbox relay; opened by the app's lifespan,
closed with it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from newretail.api.committer import Committer
from newretail.api.flashsale_worker import FlashSaleWorker
from newretail.api.flusher import BackgroundFlusher
from newretail.api.keycache import KeyCache, user_key_cache, write_key_cache
from newretail.api.realtime_tags_worker import RealtimeTagsWorker
from newretail.api.sale_windows import SaleWindows
from newretail.api.trade_relay import OutboxRelay
from newretail.audience.indexes import Indexes, IndexHolder
from newretail.config import Settings
from newretail.flashsale import FlashSaleEngine, Gate, open_engine, open_gate, restore_engine
from newretail.lake import Lake
from newretail.oltp import check_current, engine_from_settings
from newretail.security import Principal, SourceWriter
from newretail.security.keys import derived_key
from newretail.security.pii import PiiProtector
from newretail.stream import Stores, open_stores
from newretail.tags.realtime_store import RealtimeTagStore, open_realtime_store
from newretail.tags.realtime_view import with_realtime

DEFAULT_STREAM_PREFIX = "newretail:"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    stores: Stores
    lake: Lake
    protector: PiiProtector
    flusher: BackgroundFlusher | None
    write_keys: KeyCache[SourceWriter]
    user_keys: KeyCache[Principal]
    committer: Committer
    flashsale: FlashSaleEngine
    gate: Gate
    sale_windows: SaleWindows
    flashsale_worker: FlashSaleWorker | None
    indexes: IndexHolder
    realtime_tags: RealtimeTagStore
    realtime_tags_worker: RealtimeTagsWorker | None
    trade_relay: OutboxRelay | None

    def live_indexes(self, now: dt.datetime) -> Indexes:
        """The tag snapshots, with the real-time tags live as of ``now``'s UTC date."""
        return with_realtime(
            self.indexes.get(), self.realtime_tags, today=now.astimezone(dt.UTC).date()
        )

    async def aclose(self) -> None:
        """Stop the background work, then release the flash-sale engine's and gate's async clients
        (they belong to the event loop) and everything else (see :meth:`close`)."""
        try:
            if self.flashsale_worker is not None:
                self.flashsale_worker.stop()
            await self.gate.aclose()
            await self.flashsale.aclose()
        finally:
            self.close()

    def close(self) -> None:
        """Commit queued intake, stop the flusher and the trade relay (each drains first), close the
        stores and engine."""
        try:
            self.committer.close()
            if self.realtime_tags_worker is not None:
                self.realtime_tags_worker.stop()
            if self.flusher is not None:
                self.flusher.stop()
            if self.trade_relay is not None:
                self.trade_relay.stop()
        finally:
            self.realtime_tags.close()
            self.stores.close()
            self.engine.dispose()


def open_runtime(
    settings: Settings, *, stream_prefix: str = DEFAULT_STREAM_PREFIX, flush: bool = True
) -> Runtime:
    """Open everything, or raise ``DatabaseNotReady`` (un-migrated or unreachable OLTP) first.

    ``flush`` starts the background jobs: the lake flusher, the flash-sale worker, the real-time
    tags worker and the trade outbox relay.
    """
    engine = engine_from_settings(settings)
    try:
        check_current(engine)
        protector = PiiProtector.from_settings(settings)
        stores = open_stores(settings, prefix=stream_prefix)
    except BaseException:
        engine.dispose()
        raise
    try:
        flashsale = open_engine(settings, prefix=stream_prefix)
        # A restarted in-process engine rebuilds its armed sales here (Redis keeps its own).
        restore_engine(engine, flashsale)
        ticket_key = derived_key(settings, b"newretail flashsale tickets v1")
        gate = open_gate(settings, ticket_key=ticket_key, prefix=stream_prefix)
    except BaseException:
        stores.close()
        engine.dispose()
        raise
    lake = Lake(settings.lake_dir)
    realtime_tags = open_realtime_store(settings, prefix=stream_prefix)
    flusher = worker = realtime_worker = trade_relay = None
    if flush:
        flusher = BackgroundFlusher(
            log=stores.log, lake=lake, lock_path=settings.home / "stream" / "flusher.lock"
        )
        flusher.start()
        worker = FlashSaleWorker(
            engine=flashsale, database=engine, lock_path=settings.home / "flashsale" / "worker.lock"
        )
        worker.start()
        realtime_worker = RealtimeTagsWorker(
            log=stores.log,
            store=realtime_tags,
            database=engine,
            index_dir=settings.index_dir,
            lock_path=settings.home / "tags_realtime" / "worker.lock",
        )
        realtime_worker.start()
        trade_relay = OutboxRelay(
            database=engine, lake=lake, lock_path=settings.home / "trade" / "relay.lock"
        )
        trade_relay.start()
    return Runtime(
        settings=settings,
        engine=engine,
        stores=stores,
        lake=lake,
        protector=protector,
        flusher=flusher,
        write_keys=write_key_cache(engine),
        user_keys=user_key_cache(engine),
        committer=Committer(stores),
        flashsale=flashsale,
        gate=gate,
        sale_windows=SaleWindows(engine),
        flashsale_worker=worker,
        indexes=IndexHolder(settings.index_dir),
        realtime_tags=realtime_tags,
        realtime_tags_worker=realtime_worker,
        trade_relay=trade_relay,
    )
