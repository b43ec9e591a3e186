"""The Redis engine: every reservation, payment and expiry is one Lua script (see
:mod:`~newretail.flashsale.redis_scripts`), so any number of API workers share one atomic stock.

A reservation costs one round trip: EVALSHA with the sale's keys built once per sale. Durability is
Redis's, as for the event stream: run it with ``appendonly yes`` and ``appendfsync always`` (or
replicas) where an acknowledged reservation must survive the loss of the Redis server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from newretail.flashsale import redis_scripts
from newretail.flashsale.engine import FlashSaleEngine, Outcome, PayOutcome
from newretail.flashsale.records import from_millis, to_millis
from newretail.flashsale.redis_pipeline import ScriptPipeline
from newretail.flashsale.results import (
    REJECTIONS,
    ItemCounts,
    Rejection,
    Reservation,
    ReservationStatus,
    SaleCounts,
)
from newretail.flashsale.sale import Eligibility, Sale
from newretail.stream.base import EventLog, StreamUnavailable
from newretail.stream.redis_conn import connect, unavailable_on_error
from newretail.stream.redislog import RedisEventLog

if TYPE_CHECKING:
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis

_SCRIPTS = {
    name: (text, hashlib.sha1(text.encode()).hexdigest())  # noqa: S324  (Redis names scripts by SHA-1)
    for name, text in (
        ("arm", redis_scripts.ARM),
        ("reserve", redis_scripts.RESERVE),
        ("pay", redis_scripts.PAY),
        ("expire", redis_scripts.EXPIRE),
        ("end", redis_scripts.END),
    )
}
_RESERVE_SHA = _SCRIPTS["reserve"][1]
_RESERVE_KEYS = 10
_UNKNOWN_SALE = REJECTIONS["unknown_sale"]
_REJECTED: dict[bytes, Rejection] = {wire.encode(): r for wire, r in REJECTIONS.items()}
_STATUS = {
    b"R": ReservationStatus.RESERVED,
    b"P": ReservationStatus.PAID,
    b"X": ReservationStatus.EXPIRED,
}
_PAY_OUTCOMES: dict[bytes, PayOutcome] = {
    b"paid": "paid",
    b"replayed": "replayed",
    b"expired": "expired",
    b"unknown": "unknown",
}
_ELIGIBLE_BATCH = 10_000
_EXPIRE_BATCH = 500


@dataclass(frozen=True, slots=True)
class _SaleKeys:
    reserve: tuple[str, ...]
    pay: tuple[str, ...]
    expire: tuple[str, ...]
    meta: str
    stock: str
    initial: str
    eligible: str
    stats: str


class RedisEngine(FlashSaleEngine):
    """The engine on ``client``; ``async_client`` (same server) serves :meth:`areserve`.

    >>> engine = RedisEngine.connect("redis://127.0.0.1:6379/0")  # doctest: +SKIP
    """

    def __init__(
        self, client: Redis, *, async_client: AsyncRedis | None = None, prefix: str = "newretail:"
    ) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import NoScriptError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._redis = client
        self._async = async_client
        self._pipeline = None if async_client is None else ScriptPipeline(async_client)
        self._prefix = f"{prefix}fs:"
        self._log = RedisEventLog(client, prefix=self._prefix)
        self._armed = f"{self._prefix}armed"
        self._keys: dict[str, _SaleKeys] = {}
        self._down = (RedisConnectionError, RedisTimeoutError)
        self._no_script = NoScriptError

    @classmethod
    def connect(cls, url: str, *, prefix: str = "newretail:") -> RedisEngine:
        """An engine with a sync and an async connection pool to ``url``."""
        from redis.asyncio import Redis as AsyncRedis

        return cls(connect(url), async_client=AsyncRedis.from_url(url), prefix=prefix)

    @property
    def order_log(self) -> EventLog:
        return self._log

    def _run(self, name: str, keys: tuple[str, ...], *args: Any) -> Any:
        text, sha = _SCRIPTS[name]
        try:
            try:
                return self._redis.evalsha(sha, len(keys), *keys, *args)
            except self._no_script:  # first use, or Redis restarted: EVAL also caches the script
                return self._redis.eval(text, len(keys), *keys, *args)
        except self._down as error:
            raise StreamUnavailable("flashsale.redis_unavailable", "Redis unreachable") from error

    # -- hooks -----------------------------------------------------------------------------
    def _arm(self, sale: Sale, eligible: Iterable[str]) -> bool:
        keys = _keys_for(self._prefix, sale.id)
        with unavailable_on_error("arm"):
            if self._redis.exists(keys.meta):
                return False
            if sale.eligibility is not Eligibility.EVERYONE:
                # Before the meta hash: until that exists, every reservation is refused as unknown.
                pipe = self._redis.pipeline(transaction=False)
                persons = iter(eligible)
                while chunk := list(islice(persons, _ELIGIBLE_BATCH)):
                    pipe.sadd(keys.eligible, *chunk)
                pipe.execute()
        args: list[str | int] = [
            sale.id,
            to_millis(sale.starts_at),
            to_millis(sale.ends_at),
            sale.per_person_limit,
            sale.payment_window_seconds * 1000,
            int(sale.eligibility is Eligibility.EVERYONE),
        ]
        for item in sale.items:
            args += [item.sku, item.stock]
        return bool(self._run("arm", (keys.meta, keys.stock, keys.initial, self._armed), *args))

    def _reserve(
        self, sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Outcome:
        keys = self._keys.get(sale_id) or _keys_for(self._prefix, sale_id)
        args: tuple[str | int, ...] = (*keys.reserve, sku, person_id, quantity, request_key, now_ms)
        try:
            reply: Any = self._redis.evalsha(_RESERVE_SHA, _RESERVE_KEYS, *args)
        except self._no_script:
            reply = self._run("reserve", keys.reserve, *args[_RESERVE_KEYS:])
        except self._down as error:
            raise StreamUnavailable("flashsale.redis_unavailable", "Redis unreachable") from error
        return self._outcome(keys, sale_id, sku, person_id, quantity, reply)

    async def _areserve(
        self, sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Outcome:
        if self._pipeline is None:
            return await super()._areserve(sale_id, sku, person_id, quantity, request_key, now_ms)
        keys = self._keys.get(sale_id) or _keys_for(self._prefix, sale_id)
        args: tuple[str | int, ...] = (*keys.reserve, sku, person_id, quantity, request_key, now_ms)
        try:
            reply = await self._pipeline.run(
                redis_scripts.RESERVE, _RESERVE_SHA, _RESERVE_KEYS, *args
            )
        except self._down as error:
            raise StreamUnavailable("flashsale.redis_unavailable", "Redis unreachable") from error
        return self._outcome(keys, sale_id, sku, person_id, quantity, reply)

    def _outcome(
        self, keys: _SaleKeys, sale_id: str, sku: str, person_id: str, quantity: int, reply: Any
    ) -> Outcome:
        answer = reply[0]
        if answer == b"unknown_sale":
            return _UNKNOWN_SALE
        # Remembered once the script has seen the sale, so made-up sale ids cannot grow the cache.
        self._keys[sale_id] = keys
        if answer == b"reserved":
            return Reservation(
                reply[1].decode(),
                sale_id,
                sku,
                person_id,
                quantity,
                from_millis(reply[2]),
                ReservationStatus.RESERVED,
                replayed=False,
            )
        if answer == b"replayed":
            return _stored(reply[1].decode(), sale_id, reply[2], replayed=True)
        return _REJECTED[answer]

    def _pay(self, sale_id: str, reservation_id: str, now_ms: int) -> PayOutcome:
        keys = self._keys.get(sale_id) or _keys_for(self._prefix, sale_id)
        return _PAY_OUTCOMES[self._run("pay", keys.pay, reservation_id, now_ms, sale_id)]

    def _reservation(self, sale_id: str, reservation_id: str) -> Reservation | None:
        keys = self._keys.get(sale_id) or _keys_for(self._prefix, sale_id)
        with unavailable_on_error("reservation"):
            value: Any = self._redis.hget(keys.pay[0], reservation_id)
        return None if value is None else _stored(reservation_id, sale_id, value, replayed=False)

    def _end(self, sale_id: str, now_ms: int) -> bool:
        keys = _keys_for(self._prefix, sale_id)
        return bool(self._run("end", (keys.meta,), now_ms))

    def _expire_due(self, now_ms: int) -> list[str]:
        with unavailable_on_error("expire"):
            members: Any = self._redis.smembers(self._armed)
        sales = sorted(member.decode() for member in members)
        expired: list[str] = []
        for sale_id in sales:
            keys = _keys_for(self._prefix, sale_id)
            while True:
                due, ids = self._run("expire", keys.expire, now_ms, sale_id, _EXPIRE_BATCH)
                expired.extend(i.decode() for i in ids)
                if due < _EXPIRE_BATCH:
                    break
        return expired

    def _counts(self, sale_id: str) -> SaleCounts | None:
        keys = _keys_for(self._prefix, sale_id)
        with unavailable_on_error("counts"):
            pipe = self._redis.pipeline(transaction=True)
            for key in (keys.initial, keys.stock, keys.stats):
                pipe.hgetall(key)
            initial, stock, stats = pipe.execute()
        if not initial:
            return None
        number = {key.decode(): int(value) for key, value in stats.items()}
        items = tuple(
            ItemCounts(
                sku.decode(),
                int(units),
                int(stock[sku]),
                number.get(f"reserved:{sku.decode()}", 0),
                number.get(f"paid:{sku.decode()}", 0),
                number.get(f"expired:{sku.decode()}", 0),
            )
            for sku, units in sorted(initial.items())
        )
        return SaleCounts(
            sale_id=sale_id,
            items=items,
            reservations=number.get("reservations", 0),
            payments=number.get("payments", 0),
            expiries=number.get("expiries", 0),
            rejections={
                f"flashsale.{key.removeprefix('rejected:')}": n
                for key, n in number.items()
                if key.startswith("rejected:")
            },
        )

    def close(self) -> None:
        self._redis.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
        self.close()


def _stored(reservation_id: str, sale_id: str, value: bytes, *, replayed: bool) -> Reservation:
    """The reservation a ``reservations`` hash value describes."""
    state, sku, person, units, _, expires = value.split(b"|", 6)[:6]
    return Reservation(
        reservation_id,
        sale_id,
        sku.decode(),
        person.decode(),
        int(units),
        from_millis(int(expires)),
        _STATUS[state],
        replayed=replayed,
    )


def _keys_for(prefix: str, sale_id: str) -> _SaleKeys:
    base = f"{prefix}{sale_id}:"
    meta, stock, initial, eligible, held, requests, reservations, deadlines, stats = (
        base + name
        for name in (
            "meta",
            "stock",
            "initial",
            "eligible",
            "held",
            "requests",
            "reservations",
            "deadlines",
            "stats",
        )
    )
    events, armed = f"{prefix}events", f"{prefix}armed"
    return _SaleKeys(
        reserve=(
            meta,
            stock,
            eligible,
            held,
            requests,
            reservations,
            deadlines,
            stats,
            events,
            armed,
        ),
        pay=(reservations, deadlines, stats, events),
        expire=(deadlines, reservations, stock, held, stats, events, meta, armed),
        meta=meta,
        stock=stock,
        initial=initial,
        eligible=eligible,
        stats=stats,
    )
