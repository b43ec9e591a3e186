"""Connecting to Redis: the client is imported lazily, and its failures become ``StreamUnavailable``."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from newretail.stream.base import StreamUnavailable

if TYPE_CHECKING:
    from redis import Redis


def connect(url: str) -> Redis:
    """A client for ``url``; raises a clear error naming the extra when redis-py is not installed."""
    try:
        module = importlib.import_module("redis")
    except ImportError:
        raise StreamUnavailable(
            "stream.redis_missing",
            "NEWRETAIL_REDIS_URL is set but the redis client is not installed: "
            "pip install 'newretail[redis]'",
        ) from None
    client: Redis = module.Redis.from_url(url, decode_responses=False)
    return client


@contextlib.contextmanager
def unavailable_on_error(what: str) -> Iterator[None]:
    """Turn a connection or timeout error into ``StreamUnavailable`` (HTTP 503, retry later)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StreamUnavailable("stream.redis_unavailable", f"{what}: Redis unreachable") from exc
