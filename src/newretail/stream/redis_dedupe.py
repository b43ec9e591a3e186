"""The dedupe store on Redis: one key per message, ``SET NX EX`` so it expires with the retention window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newretail.stream.dedupe import DEFAULT_RETENTION, Dedupe
from newretail.stream.redis_conn import unavailable_on_error

if TYPE_CHECKING:
    from redis import Redis


class RedisDedupe(Dedupe):
    """Keys ``<prefix>seen:<key>``; Redis's own clock runs the expiry, so ``now`` is not needed."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "newretail:",
        retention: dt.timedelta = DEFAULT_RETENTION,
    ) -> None:
        self._redis = client
        self._prefix = f"{prefix}seen:"
        self.retention = retention

    def seen(self, keys: Sequence[str], *, now: dt.datetime) -> set[str]:
        if not keys:
            return set()
        with unavailable_on_error("dedupe"):
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.exists(self._prefix + key)
            hits = pipe.execute()
        return {key for key, hit in zip(keys, hits, strict=True) if hit}

    def remember(self, keys: Sequence[str], *, at: dt.datetime) -> None:
        if not keys:
            return
        seconds = int(self.retention.total_seconds())
        with unavailable_on_error("dedupe"):
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.set(self._prefix + key, b"1", nx=True, ex=seconds)
            pipe.execute()

    def close(self) -> None:
        self._redis.close()
