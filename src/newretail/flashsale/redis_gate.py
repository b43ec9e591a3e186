"""The gate on Redis: one Lua script per attempt counts it against both limits and, for a walk-in,
admits it on the sale's schedule or books its slot, so every server process shares one queue.

Keys, under ``<prefix>fs:``: ``<sale>:gate:schedule`` (``tat``, ms with three decimals: at 10,000
admissions a second one slot is 0.1 ms, which Lua's default 14-digit formatting would round away;
``now``, the latest clock any caller brought),
``<sale>:gate:stats`` (attempts rate-limited, tickets handed out), ``<sale>:gate:p:<person>:<second>``
and ``gate:a:<address>:<second>`` (attempt counters that expire after two seconds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from newretail.flashsale.gate import WINDOW_MS, Gate, GatePolicy, Step
from newretail.flashsale.redis_pipeline import ScriptPipeline
from newretail.stream.base import StreamUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis as AsyncRedis

# KEYS: person counter, address counter, schedule, stats. ARGV: person limit, address limit, counter
# TTL (ms), step (0 walk-in, 1 count only), now (ms), interval (ms), burst (ms).
# Returns {0} admitted, {1} person limit, {2} address limit or {3, slot ms} queued.
GATE_SCRIPT = """
local person = redis.call('INCR', KEYS[1])
if person == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if person > tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[4], 'rate_limited', 1)
  return {1}
end
local address = redis.call('INCR', KEYS[2])
if address == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if address > tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[4], 'rate_limited', 1)
  return {2}
end
if ARGV[4] == '1' then return {0} end
local schedule = redis.call('HMGET', KEYS[3], 'tat', 'now')
local now = math.max(tonumber(ARGV[5]), tonumber(schedule[2] or '0'))
local tat = math.max(tonumber(schedule[1] or '0'), now)
redis.call('HSET', KEYS[3], 'tat', string.format('%.3f', tat + tonumber(ARGV[6])), 'now', now)
redis.call('PEXPIRE', KEYS[3], 86400000)
if tat - now <= tonumber(ARGV[7]) then return {0} end
redis.call('HINCRBY', KEYS[4], 'tickets', 1)
return {3, math.ceil(tat)}
"""
_PASS_SHA = hashlib.sha1(GATE_SCRIPT.encode()).hexdigest()  # noqa: S324  (Redis names scripts by SHA-1)
_OUTCOMES: tuple[Literal["admitted", "person", "address", "queued"], ...] = (
    "admitted",
    "person",
    "address",
    "queued",
)


class RedisGate(Gate):
    """The gate on ``client`` (an asyncio Redis client), its keys under ``prefix``."""

    def __init__(
        self,
        client: AsyncRedis,
        policy: GatePolicy,
        *,
        ticket_key: bytes,
        prefix: str = "newretail:",
    ) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        super().__init__(policy, ticket_key=ticket_key)
        self._client = client
        self._pipeline = ScriptPipeline(client)
        self._prefix = f"{prefix}fs:"
        self._down = (RedisConnectionError, RedisTimeoutError)
        self._args = (
            policy.person_per_second,
            policy.address_per_second,
            2 * WINDOW_MS,
        )
        self._schedule_args = (f"{policy.interval_ms:.6f}", policy.burst_ms)

    @classmethod
    def connect(
        cls, url: str, policy: GatePolicy, *, ticket_key: bytes, prefix: str = "newretail:"
    ) -> RedisGate:
        from redis.asyncio import Redis as AsyncRedis

        return cls(AsyncRedis.from_url(url), policy, ticket_key=ticket_key, prefix=prefix)

    async def _pass(
        self, sale_id: str, person_id: str, address: str, step: Step, now_ms: int
    ) -> tuple[Literal["admitted", "person", "address", "queued"], int]:
        window = now_ms // WINDOW_MS
        keys = (
            f"{self._prefix}{sale_id}:gate:p:{person_id}:{window}",
            f"{self._prefix}gate:a:{address}:{window}",
            f"{self._prefix}{sale_id}:gate:schedule",
            f"{self._prefix}{sale_id}:gate:stats",
        )
        try:
            reply: Any = await self._pipeline.run(
                GATE_SCRIPT,
                _PASS_SHA,
                4,
                *keys,
                *self._args,
                int(step),
                now_ms,
                *self._schedule_args,
            )
        except self._down as error:
            raise StreamUnavailable("flashsale.redis_unavailable", "Redis unreachable") from error
        return _OUTCOMES[reply[0]], int(reply[1]) if len(reply) > 1 else 0

    async def _figures(self, sale_id: str) -> tuple[float, Mapping[str, int]]:
        base = f"{self._prefix}{sale_id}:gate:"
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.hget(base + "schedule", "tat")
                pipe.hgetall(base + "stats")
                tat, stats = await pipe.execute()
        except self._down as error:
            raise StreamUnavailable("flashsale.redis_unavailable", "Redis unreachable") from error
        counters = {key.decode(): int(value) for key, value in stats.items()}
        return (float(tat) if tat is not None else 0.0), counters

    async def aclose(self) -> None:
        await self._client.aclose()
