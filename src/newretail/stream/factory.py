"""Choosing the twins: Redis when ``NEWRETAIL_REDIS_URL`` is set, else the embedded stores in HOME."""

from __future__ import annotations

from dataclasses import dataclass

from newretail.config import Settings
from newretail.stream.base import EventLog
from newretail.stream.counters import Counters, MemoryCounters
from newretail.stream.dedupe import Dedupe, SqliteDedupe
from newretail.stream.filelog import FileEventLog


@dataclass(frozen=True)
class Stores:
    """The event log, the dedupe store and the counters of one process."""

    log: EventLog
    dedupe: Dedupe
    counters: Counters

    def close(self) -> None:
        self.log.close()
        self.dedupe.close()
        self.counters.close()


def open_stores(settings: Settings, *, prefix: str = "newretail:") -> Stores:
    """Open the stream stores the settings select; ``prefix`` namespaces the Redis keys.

    >>> stores = open_stores(get_settings())  # doctest: +SKIP
    """
    if settings.redis_url:
        from newretail.stream.redis_conn import connect
        from newretail.stream.redis_counters import RedisCounters
        from newretail.stream.redis_dedupe import RedisDedupe
        from newretail.stream.redislog import RedisEventLog

        client = connect(settings.redis_url)
        return Stores(
            log=RedisEventLog(client, prefix=prefix),
            dedupe=RedisDedupe(client, prefix=prefix),
            counters=RedisCounters(client, prefix=prefix),
        )
    root = settings.home / "stream"
    return Stores(
        log=FileEventLog(root / "events"),
        dedupe=SqliteDedupe(root / "dedupe.sqlite"),
        counters=MemoryCounters(),
    )
