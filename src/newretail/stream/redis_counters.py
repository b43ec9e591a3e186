"""Per-person counters on Redis, each update one atomic Lua call (max of last-seen, add to the day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from newretail.stream.counters import KEEP_DAYS, Activity, Counters, Hit, tally
from newretail.stream.redis_conn import unavailable_on_error

if TYPE_CHECKING:
    from redis import Redis

# KEYS: last-seen key, day key. ARGV: event time (µs since epoch), count, day TTL, last-seen TTL.
_RECORD = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""
_LAST_SEEN_TTL = 90 * 86_400  # a person unseen for 90 days drops out of the hot state


def _micros(at: dt.datetime) -> int:
    return (at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


class RedisCounters(Counters):
    """Keys ``<prefix>seen_at:<person>`` and ``<prefix>day:<YYYY-MM-DD>:<person>``."""

    def __init__(self, client: Redis, *, prefix: str = "newretail:") -> None:
        self._redis = client
        self._prefix = prefix
        self._script = client.register_script(_RECORD)

    def _keys(self, person: str, day: dt.date) -> list[str]:
        return [f"{self._prefix}seen_at:{person}", f"{self._prefix}day:{day.isoformat()}:{person}"]

    def record(self, hits: Iterable[Hit]) -> None:
        latest, days = tally(hits)
        if not days:
            return
        with unavailable_on_error("counters"):
            pipe = self._redis.pipeline(transaction=False)
            for (person, day), n in days.items():
                args = [_micros(latest[person]), n, KEEP_DAYS * 86_400, _LAST_SEEN_TTL]
                self._script(keys=self._keys(person, day), args=args, client=pipe)
            pipe.execute()

    def activity(self, person: str, *, day: dt.date) -> Activity:
        with unavailable_on_error("counters"):
            seen, count = self._redis.mget(self._keys(person, day))
        last_seen = None
        if seen is not None:
            epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            last_seen = epoch + dt.timedelta(microseconds=int(seen))
        return Activity(last_seen=last_seen, events_on_day=int(count or 0))

    def close(self) -> None:
        self._redis.close()
