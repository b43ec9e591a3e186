"""The order writer: the engine's order records into ``flashsale_orders``, idempotently.

A batch is read from the order log, written in one transaction and acknowledged only after the
commit, so a writer killed at any point leaves its batch pending: the next writer (or another
consumer claiming entries idle for ``claim_idle_ms``) writes it again. Writing again changes
nothing: the reservation id is the key and an order's state only moves forward (reserved to paid
or to expired), whatever order the records arrive in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from newretail.flashsale.records import OrderRecord, decode, from_millis, later
from newretail.oltp.tables import flashsale_items, flashsale_orders
from newretail.stream.base import EventLog

GROUP = "flashsale-orders"
_DIALECT_INSERTS: Mapping[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class OrderWriter:
    """Consumes ``log`` (an engine's :attr:`~FlashSaleEngine.order_log`) into ``database``.

    >>> OrderWriter(engine.order_log, database, consumer="worker-1").drain()  # doctest: +SKIP
    1200
    """

    def __init__(
        self,
        log: EventLog,
        database: Engine,
        *,
        consumer: str,
        batch: int = 2_000,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self._log = log
        self._database = database
        self._consumer = consumer
        self._batch = batch
        self._claim_idle_ms = claim_idle_ms
        self._prices: dict[str, Mapping[str, tuple[int, str]]] = {}

    def step(self) -> int:
        """Write one batch: entries a crashed consumer left pending first, then new ones."""
        entries = self._log.claim(
            GROUP, self._consumer, min_idle_ms=self._claim_idle_ms, count=self._batch
        ) or self._log.read(GROUP, self._consumer, count=self._batch)
        if not entries:
            return 0
        with self._database.begin() as conn:
            write_orders(conn, [decode(entry.payload) for entry in entries], self._prices)
        self._log.ack(GROUP, [entry.id for entry in entries])
        return len(entries)

    def drain(self) -> int:
        """Write until the log has nothing more for this writer; returns the records written."""
        total = 0
        while written := self.step():
            total += written
        return total

    def run(self, stop: threading.Event, *, idle_seconds: float = 0.05) -> None:
        """Keep writing until ``stop`` is set, pausing ``idle_seconds`` when there is nothing."""
        while not stop.is_set():
            if not self.step():
                stop.wait(idle_seconds)


def write_orders(
    conn: Connection,
    records: Sequence[OrderRecord],
    prices: dict[str, Mapping[str, tuple[int, str]]],
) -> None:
    """Upsert the orders of ``records``; ``prices`` caches each sale's SKU -> (price, currency)."""
    latest: dict[str, OrderRecord] = {}
    for record in records:
        latest[record.reservation_id] = later(latest.get(record.reservation_id), record)
    rows = []
    for record in latest.values():
        if record.sale_id not in prices:
            prices[record.sale_id] = _prices(conn, record.sale_id)
        price_minor, currency = prices[record.sale_id][record.sku]
        rows.append(_row(record, price_minor, currency))
    insert = _DIALECT_INSERTS[conn.dialect.name](flashsale_orders)
    # One row per reservation per statement (collapsed above): PostgreSQL refuses an upsert that
    # touches a row twice. A reserved record never overwrites a paid or expired order.
    statement = insert.on_conflict_do_update(
        index_elements=[flashsale_orders.c.reservation_id],
        set_={
            "status": insert.excluded.status,
            "paid_at": insert.excluded.paid_at,
            "expired_at": insert.excluded.expired_at,
        },
        where=(flashsale_orders.c.status == "reserved") & (insert.excluded.status != "reserved"),
    )
    conn.execute(statement, rows)


def _prices(conn: Connection, sale_id: str) -> Mapping[str, tuple[int, str]]:
    query = select(
        flashsale_items.c.sku, flashsale_items.c.price_minor, flashsale_items.c.currency
    ).where(flashsale_items.c.sale_id == sale_id)
    return {sku: (price, currency) for sku, price, currency in conn.execute(query)}


def _row(record: OrderRecord, price_minor: int, currency: str) -> dict[str, Any]:
    at = from_millis(record.at_ms)
    return {
        "reservation_id": record.reservation_id,
        "sale_id": record.sale_id,
        "sku": record.sku,
        "person_id": record.person_id,
        "quantity": record.quantity,
        "price_minor": price_minor,
        "currency": currency,
        "status": record.status.value,
        "request_key": record.request_key,
        "reserved_at": from_millis(record.reserved_ms),
        "expires_at": from_millis(record.expires_ms),
        "paid_at": at if record.kind == "P" else None,
        "expired_at": at if record.kind == "X" else None,
    }
