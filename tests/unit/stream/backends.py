"""The two twins of the stream stores, as one fixture: import ``backend`` into a test module.

``from tests.unit.stream.backends import Backend, backend as backend  # noqa: F401  (fixture)``
Redis runs under a unique key prefix per test, deleted afterwards; without a Redis it is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from newretail.config import Settings
from newretail.stream import Stores, open_stores

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Backend:
    """One twin: its name, settings, Redis key prefix, and open stores."""

    name: str
    settings: Settings
    prefix: str
    stores: Stores

    def reopen(self) -> Stores:
        """Fresh stores on the same data, as a restarted process would open them."""
        return open_stores(self.settings, prefix=self.prefix)


def require_redis() -> None:
    try:
        import redis
    except ImportError:
        pytest.skip("redis-py is not installed (the redis extra)")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    prefix = f"nrtest:{uuid.uuid4().hex}:"
    if request.param == "redis":
        require_redis()
        settings = settings.model_copy(update={"redis_url": REDIS_URL})
    chosen = Backend(request.param, settings, prefix, open_stores(settings, prefix=prefix))
    yield chosen
    chosen.stores.close()
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
