"""The two flash-sale engines as one fixture, and sales to arm in them.

``from tests.unit.flashsale.engines import Engines, engines as engines  # noqa: F401  (fixture)``
The in-process engine lives in a temporary directory; the Redis one under a unique key prefix,
deleted afterwards, and is skipped (one line) without a Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.flashsale import (
    Eligibility,
    FlashSaleEngine,
    InProcessEngine,
    RedisEngine,
    Sale,
    SaleItem,
    SaleStatus,
)

START = dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC)
OPEN = START + dt.timedelta(minutes=1)  # a moment inside every sale made by :func:`a_sale`

ENGINE_KINDS = ["inprocess", pytest.param("redis", marks=pytest.mark.redis)]


@dataclass
class Engines:
    """Opens engines of one kind on one store: a second :meth:`open` is a restarted process."""

    kind: str
    root: Path
    prefix: str
    opened: list[FlashSaleEngine] = field(default_factory=list)

    def open(self) -> FlashSaleEngine:
        engine: FlashSaleEngine
        if self.kind == "redis":
            engine = RedisEngine.connect(REDIS_URL, prefix=self.prefix)
        else:
            engine = InProcessEngine(self.root)
        self.opened.append(engine)
        return engine

    def close(self, engine: FlashSaleEngine) -> None:
        self.opened.remove(engine)
        engine.close()

    def env(self) -> dict[str, str]:
        """How a child process opens the same store (see ``flashsale_child.py``)."""
        return {"FS_KIND": self.kind, "FS_ROOT": str(self.root), "FS_PREFIX": self.prefix}


def open_engines(kind: str, root: Path) -> Iterator[Engines]:
    if kind == "redis":
        require_redis()
    made = Engines(kind, root, f"nrtest:{uuid.uuid4().hex}:")
    yield made
    for engine in list(made.opened):
        engine.close()
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{made.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(params=ENGINE_KINDS)
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engines]:
    yield from open_engines(request.param, tmp_path / "flashsale")


def a_sale(
    sale_id: str = "fs-test",
    *,
    stock: dict[str, int] | None = None,
    limit: int = 2,
    window_seconds: int = 60,
    eligibility: Eligibility = Eligibility.EVERYONE,
) -> Sale:
    """An armed sale open for an hour from :data:`START`, priced at 9.90 CNY an item."""
    return Sale(
        id=sale_id,
        name="Double 11",
        status=SaleStatus.ARMED,
        starts_at=START,
        ends_at=START + dt.timedelta(hours=1),
        per_person_limit=limit,
        payment_window_seconds=window_seconds,
        channels=("app",),
        eligibility=eligibility,
        audience_id=None,
        items=tuple(
            SaleItem(sku, units, 990, "CNY") for sku, units in (stock or {"SKU-A": 10}).items()
        ),
    )
