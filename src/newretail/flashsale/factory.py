"""Choosing the engine and the gate: Redis when ``NEWRETAIL_REDIS_URL`` is set, else in-process."""

from __future__ import annotations

from newretail.config import Settings
from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.gate import Gate, GatePolicy, InProcessGate
from newretail.flashsale.inprocess import InProcessEngine


def open_engine(settings: Settings, *, prefix: str = "newretail:") -> FlashSaleEngine:
    """The engine the settings select; ``prefix`` namespaces its Redis keys.

    >>> engine = open_engine(get_settings())  # doctest: +SKIP
    """
    if settings.redis_url:
        from newretail.flashsale.redis_engine import RedisEngine

        return RedisEngine.connect(settings.redis_url, prefix=prefix)
    return InProcessEngine(settings.home / "flashsale" / "orders")


def open_gate(settings: Settings, *, ticket_key: bytes, prefix: str = "newretail:") -> Gate:
    """The gate (rate limits and waiting room) over the same store as :func:`open_engine`."""
    policy = GatePolicy(
        person_per_second=settings.flashsale_person_per_second,
        address_per_second=settings.flashsale_address_per_second,
        admit_per_second=settings.flashsale_admit_per_second,
    )
    if settings.redis_url:
        from newretail.flashsale.redis_gate import RedisGate

        return RedisGate.connect(settings.redis_url, policy, ticket_key=ticket_key, prefix=prefix)
    return InProcessGate(policy, ticket_key=ticket_key)
