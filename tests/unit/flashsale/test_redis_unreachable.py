"""An unreachable Redis is a 503 ``StreamUnavailable`` to the caller, from sync and async code alike."""

from __future__ import annotations

import asyncio

import pytest
from tests.unit.flashsale.engines import OPEN, a_sale

from newretail.flashsale import RedisEngine
from newretail.stream import StreamUnavailable

NOWHERE = "redis://127.0.0.1:1/0"


def test_every_call_says_redis_is_unreachable() -> None:
    pytest.importorskip("redis")
    engine = RedisEngine.connect(NOWHERE, prefix="nowhere:")
    calls = [
        lambda: engine.arm(a_sale()),
        lambda: engine.reserve(
            "fs-test", sku="SKU-A", person_id="p1", quantity=1, request_key="k", now=OPEN
        ),
        lambda: engine.pay("fs-test-1", now=OPEN),
        lambda: engine.expire_due(now=OPEN),
        lambda: engine.counts("fs-test"),
    ]
    for call in calls:
        with pytest.raises(StreamUnavailable) as caught:
            call()
        assert caught.value.http_status == 503

    async def reserve_concurrently() -> list[BaseException | object]:
        outcomes = await asyncio.gather(
            *(
                engine.areserve(
                    "fs-test", sku="SKU-A", person_id=f"p{n}", quantity=1, request_key="k", now=OPEN
                )
                for n in range(20)
            ),
            return_exceptions=True,
        )
        await engine.aclose()
        return outcomes

    outcomes = asyncio.run(reserve_concurrently())
    assert all(isinstance(o, StreamUnavailable) for o in outcomes), outcomes
