"""The dedupe store on Redis: one key per message, ``SET NX EX`` so it expires with the retention window.

:meth:`RedisDedupe.admit` on a :class:`RedisEventLog` of the same server is one Lua call: per message,
``SET NX`` then ``XADD`` if the key was new. A script runs atomically, so the check, the append and the
remembering cannot be split by a crash or raced by another server process, in one round trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newretail.stream.base import EventLog
from newretail.stream.dedupe import DEFAULT_RETENTION, Dedupe
from newretail.stream.redis_conn import unavailable_on_error
from newretail.stream.redislog import FIELD, RedisEventLog

if TYPE_CHECKING:
    from redis import Redis

# KEYS: the stream, then one seen-key per message. ARGV: the TTL in seconds, the stream field, then
# one payload per message. Returns 1 for an appended message, 0 for a duplicate.
_ADMIT = """
local out = {}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[i + 1])
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
"""


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
        self._admit = client.register_script(_ADMIT)

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

    def admit(
        self, log: EventLog, items: Sequence[tuple[str, bytes]], *, at: dt.datetime
    ) -> list[bool]:
        if not isinstance(log, RedisEventLog) or not log.shares_server_with(self._redis):
            return super().admit(log, items, at=at)
        if not items:
            return []
        keys = [log.stream_key, *(self._prefix + key for key, _ in items)]
        args: list[bytes | int] = [int(self.retention.total_seconds()), FIELD]
        args.extend(payload for _, payload in items)
        with unavailable_on_error("append"):
            flags = self._admit(keys=keys, args=args)
        return [bool(flag) for flag in flags]

    def close(self) -> None:
        self._redis.close()
