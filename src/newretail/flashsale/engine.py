"""The engine interface: arm a sale, reserve, pay, expire, count. Both engines fill in the same hooks.

The public methods here check their arguments and convert times once, so the Redis and in-process
hooks receive clean values (milliseconds since the epoch) and hold only the engine-specific work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar, Literal

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.flashsale.records import sale_of, to_millis
from newretail.flashsale.results import Payment, Rejection, Reservation, SaleCounts
from newretail.flashsale.sale import ITEM_OR_PERSON_ID, SALE_ID, Sale, SaleStatus
from newretail.stream.base import EventLog

# Printable ASCII: an Idempotency-Key header or a client-made UUID fits; control bytes do not.
_REQUEST_KEY = re.compile(r"[\x21-\x7e]{1,128}")
MAX_QUANTITY = 100
PayOutcome = Literal["paid", "replayed", "expired", "unknown"]
Outcome = Reservation | Rejection


class FlashSaleEngine(ABC):
    """Atomic flash-sale stock: the state of armed sales and the log of every reservation.

    A reservation is accepted only when the sale is open at ``now``, the person is eligible, their
    units held in the sale stay within the per-person limit and the item has the stock; the checks,
    the stock decrement and the durable order record happen as one step. Reserving twice with the
    same ``request_key`` (per person and sale) returns the first reservation.
    """

    # True when the engine rebuilds its sales from the whole order log after a restart, so the log
    # must never be trimmed; an engine that keeps its state elsewhere lets acknowledged records go.
    rebuilds_from_log: ClassVar[bool] = False

    # -- the interface ---------------------------------------------------------------------
    def arm(self, sale: Sale, *, eligible: Iterable[str] = ()) -> bool:
        """Load ``sale`` (stock, limit, window, eligible persons) into the engine; True when new.

        Arming a sale the engine already holds changes nothing, so its stock taken so far stays.
        ``eligible`` is ignored for a sale open to everyone.
        """
        if sale.status is not SaleStatus.ARMED:
            raise Conflict("flashsale.not_armed", f"sale {sale.id} must be marked armed first")
        return self._arm(sale, eligible)

    def reserve(
        self,
        sale_id: str,
        *,
        sku: str,
        person_id: str,
        quantity: int,
        request_key: str,
        now: dt.datetime,
    ) -> Outcome:
        """Reserve ``quantity`` units of ``sku`` for ``person_id``, or say why not.

        Malformed arguments raise :class:`InvalidInput` ``flashsale.bad_request`` and touch nothing.
        """
        _check_reserve(sale_id, sku, person_id, quantity, request_key, now)
        return self._reserve(sale_id, sku, person_id, quantity, request_key, to_millis(now))

    async def areserve(
        self,
        sale_id: str,
        *,
        sku: str,
        person_id: str,
        quantity: int,
        request_key: str,
        now: dt.datetime,
    ) -> Outcome:
        """:meth:`reserve` for async code: same checks, same script, no blocked event loop."""
        _check_reserve(sale_id, sku, person_id, quantity, request_key, now)
        return await self._areserve(sale_id, sku, person_id, quantity, request_key, to_millis(now))

    def pay(self, reservation_id: str, *, now: dt.datetime) -> Payment:
        """Mark a reservation paid; paying it again returns ``replayed``.

        Raises :class:`NotFound` ``flashsale.unknown_reservation``, or :class:`Conflict`
        ``flashsale.reservation_expired`` once ``now`` has reached its ``expires_at``.
        """
        _check_now(now)
        sale_id = sale_of(reservation_id)
        outcome: PayOutcome = "unknown"
        if sale_id is not None:
            outcome = self._pay(sale_id, reservation_id, to_millis(now))
        if outcome == "unknown":
            raise NotFound("flashsale.unknown_reservation", "there is no such reservation")
        if outcome == "expired":
            raise Conflict(
                "flashsale.reservation_expired", "the payment window of this reservation has closed"
            )
        return Payment(reservation_id, replayed=outcome == "replayed")

    def reservation(self, reservation_id: str) -> Reservation:
        """The reservation as it stands now; :class:`NotFound` ``flashsale.unknown_reservation``."""
        sale_id = sale_of(reservation_id)
        found = None if sale_id is None else self._reservation(sale_id, reservation_id)
        if found is None:
            raise NotFound("flashsale.unknown_reservation", "there is no such reservation")
        return found

    def end_sale(self, sale_id: str, *, now: dt.datetime) -> None:
        """End an armed sale at ``now`` unless it ends earlier: from then on every reservation is
        refused as ``ended``; reservations made before keep their payment window.

        Raises :class:`NotFound` ``flashsale.unknown_sale`` when the engine does not hold the sale.
        """
        _check_now(now)
        if not (SALE_ID.fullmatch(sale_id) and self._end(sale_id, to_millis(now))):
            raise NotFound("flashsale.unknown_sale", "there is no such sale in the engine")

    def expire_due(self, *, now: dt.datetime) -> list[str]:
        """Expire every unpaid reservation whose ``expires_at`` is not after ``now`` and give its
        units back to stock; returns the ids expired. Run it often (the worker does, every second).
        """
        _check_now(now)
        return self._expire_due(to_millis(now))

    def counts(self, sale_id: str) -> SaleCounts:
        """The live counts of an armed sale; :class:`NotFound` ``flashsale.unknown_sale`` otherwise."""
        counts = self._counts(sale_id) if SALE_ID.fullmatch(sale_id) else None
        if counts is None:
            raise NotFound("flashsale.unknown_sale", "there is no such sale in the engine")
        return counts

    @property
    @abstractmethod
    def order_log(self) -> EventLog:
        """The log of order records (see :mod:`newretail.flashsale.records`) the order writer reads."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and files."""

    async def aclose(self) -> None:
        """:meth:`close` for async code; also releases an async client's connections."""
        self.close()

    # -- hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _arm(self, sale: Sale, eligible: Iterable[str]) -> bool: ...

    @abstractmethod
    def _reserve(
        self, sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Outcome: ...

    async def _areserve(
        self, sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Outcome:
        # An engine without an async client runs the blocking call on a worker thread.
        return await asyncio.to_thread(
            self._reserve, sale_id, sku, person_id, quantity, request_key, now_ms
        )

    @abstractmethod
    def _pay(self, sale_id: str, reservation_id: str, now_ms: int) -> PayOutcome: ...

    @abstractmethod
    def _reservation(self, sale_id: str, reservation_id: str) -> Reservation | None: ...

    @abstractmethod
    def _end(self, sale_id: str, now_ms: int) -> bool: ...

    @abstractmethod
    def _expire_due(self, now_ms: int) -> list[str]: ...

    @abstractmethod
    def _counts(self, sale_id: str) -> SaleCounts | None: ...


def _check_reserve(
    sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now: dt.datetime
) -> None:
    # One combined test on the hot path; the slower search for the culprit runs only on failure.
    if (
        type(quantity) is int
        and 0 < quantity <= MAX_QUANTITY
        and SALE_ID.fullmatch(sale_id)
        and ITEM_OR_PERSON_ID.fullmatch(sku)
        and ITEM_OR_PERSON_ID.fullmatch(person_id)
        and _REQUEST_KEY.fullmatch(request_key)
        and now.tzinfo is not None
    ):
        return
    for field, ok in (
        ("sale_id", SALE_ID.fullmatch(sale_id)),
        ("sku", ITEM_OR_PERSON_ID.fullmatch(sku)),
        ("person_id", ITEM_OR_PERSON_ID.fullmatch(person_id)),
        ("quantity", type(quantity) is int and 0 < quantity <= MAX_QUANTITY),
        ("request_key", _REQUEST_KEY.fullmatch(request_key)),
    ):
        if not ok:
            raise InvalidInput("flashsale.bad_request", f"malformed {field}", field=field)
    _check_now(now)


def _check_now(now: dt.datetime) -> None:
    if now.tzinfo is None:
        # A programming error, not user input: the clock is always aware.
        raise ValueError("naive datetime given as now")
