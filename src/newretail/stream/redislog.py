"""The event log on Redis Streams: XADD in MULTI, consumer groups, XACK, XAUTOCLAIM, MINID trimming.

Durability is Redis's: an append is acknowledged once Redis has it, so run Redis with
``appendonly yes`` and ``appendfsync always`` (or replicas) where a lost event matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from newretail.stream.base import Entry, EventLog
from newretail.stream.redis_conn import unavailable_on_error

if TYPE_CHECKING:
    from redis import Redis

FIELD = b"e"  # the one field of each stream entry: the payload


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class RedisEventLog(EventLog):
    """A log on the stream ``<prefix>events``; groups are created on first read, from the start."""

    def __init__(self, client: Redis, *, prefix: str = "newretail:") -> None:
        self._redis = client
        self._key = f"{prefix}events"
        self._known_groups: set[str] = set()

    @property
    def stream_key(self) -> str:
        return self._key

    def shares_server_with(self, client: Redis) -> bool:
        """Whether ``client`` talks to this log's Redis database (so one script can touch both)."""
        if client is self._redis:
            return True
        mine = self._redis.connection_pool.connection_kwargs
        theirs = client.connection_pool.connection_kwargs
        return all(mine.get(k) == theirs.get(k) for k in ("host", "port", "db", "path"))

    def append(self, payloads: Sequence[bytes]) -> list[str]:
        if not payloads:
            return []
        with unavailable_on_error("append"):
            # MULTI/EXEC: a request's events go in together or not at all.
            pipe = self._redis.pipeline(transaction=True)
            for payload in payloads:
                pipe.xadd(self._key, {FIELD: payload})
            ids = pipe.execute()
        return [_text(i) for i in ids]

    def _ensure_group(self, group: str) -> None:
        if group in self._known_groups:
            return
        from redis.exceptions import ResponseError

        try:
            self._redis.xgroup_create(self._key, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._known_groups.add(group)

    def read(self, group: str, consumer: str, *, count: int) -> list[Entry]:
        with unavailable_on_error("read"):
            self._ensure_group(group)
            reply = cast(
                "list[Any]",
                self._redis.xreadgroup(group, consumer, {self._key: ">"}, count=count),
            )
        return [entry for _, messages in reply or [] for entry in self._entries(messages)]

    def ack(self, group: str, ids: Sequence[str]) -> None:
        if ids:
            with unavailable_on_error("ack"):
                self._redis.xack(self._key, group, *ids)

    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        with unavailable_on_error("claim"):
            self._ensure_group(group)
            reply = self._redis.xautoclaim(
                self._key, group, consumer, min_idle_ms, "0-0", count=count
            )
        return self._entries(reply[1])

    def trim(self) -> int:
        """Drop entries below the oldest one any group still needs (pending or not yet delivered)."""
        with unavailable_on_error("trim"):
            groups = self._redis.xinfo_groups(self._key)
            if not groups:
                return 0
            floors = []
            for info in groups:
                floor = _text(info["last-delivered-id"])
                if int(info["pending"]):
                    summary = self._redis.xpending(self._key, info["name"])
                    floor = _text(summary["min"])
                floors.append(floor)
            return self._redis.xtrim(self._key, minid=min(floors, key=_id_key))

    @staticmethod
    def _entries(messages: list[Any]) -> list[Entry]:
        # XAUTOCLAIM reports entries deleted meanwhile as (id, None); they are skipped.
        return [Entry(_text(i), fields[FIELD]) for i, fields in messages if fields]

    def close(self) -> None:
        self._redis.close()
