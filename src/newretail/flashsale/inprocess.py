"""The in-process engine for a single server: sale state in memory, every change appended to the
embedded event log and fsynced before anyone is told.

Concurrent calls share fsyncs (the log's group commit), so durability costs one disk flush per batch
of calls rather than per call. After a restart, :meth:`~FlashSaleEngine.arm` rebuilds each sale
from the log: the stock taken, every person's units and every reservation with its request key.
The log is read whole when the engine opens, so it must not be trimmed while a sale in it may still
be armed again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from newretail.flashsale.engine import FlashSaleEngine, Outcome, PayOutcome
from newretail.flashsale.records import OrderRecord, decode, from_millis, later
from newretail.flashsale.results import REJECTIONS, Reservation, ReservationStatus, SaleCounts
from newretail.flashsale.sale import Eligibility, Sale
from newretail.flashsale.sale_state import SaleState
from newretail.stream.base import EventLog
from newretail.stream.filelog import FileEventLog
from newretail.stream.segments import scan

_UNKNOWN_SALE = REJECTIONS["unknown_sale"]


class InProcessEngine(FlashSaleEngine):
    """The engine on the log at ``root`` (``NEWRETAIL_HOME/flashsale/orders`` by default).

    One process at a time may append to the log; the order writer may read it from another.

    >>> engine = InProcessEngine(home / "flashsale" / "orders")  # doctest: +SKIP
    >>> engine.arm(sale)  # doctest: +SKIP
    True
    """

    rebuilds_from_log = True

    def __init__(self, root: Path) -> None:
        self._log = FileEventLog(root)
        self._history = _read_history(Path(root) / "segments")
        self._sales: dict[str, SaleState] = {}
        self._arming = threading.Lock()

    @property
    def order_log(self) -> EventLog:
        return self._log

    def _arm(self, sale: Sale, eligible: Iterable[str]) -> bool:
        with self._arming:
            if sale.id in self._sales:
                return False
            everyone = sale.eligibility is Eligibility.EVERYONE
            state = SaleState(sale, None if everyone else frozenset(eligible))
            for record in self._history.pop(sale.id, {}).values():
                state.restore(record)
            self._sales[sale.id] = state
            return True

    def _reserve(
        self, sale_id: str, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Outcome:
        state = self._sales.get(sale_id)
        if state is None:
            return _UNKNOWN_SALE
        while True:
            with state.lock:
                step = state.reserve(sku, person_id, quantity, request_key, now_ms)
            if not isinstance(step, threading.Event):
                break
            step.wait()  # the same request key is in flight: answer as it will be answered
        if not isinstance(step, OrderRecord):
            return step
        try:
            self._log.append([step.encode()])
        except BaseException:
            with state.lock:
                state.undo_reserve(step)
            raise
        with state.lock:
            state.settle(step.reservation_id)
        return Reservation(
            step.reservation_id,
            sale_id,
            sku,
            person_id,
            quantity,
            from_millis(step.expires_ms),
            ReservationStatus.RESERVED,
            replayed=False,
        )

    def _pay(self, sale_id: str, reservation_id: str, now_ms: int) -> PayOutcome:
        state = self._sales.get(sale_id)
        if state is None:
            return "unknown"
        while True:
            with state.lock:
                step = state.pay(reservation_id, now_ms)
            if not isinstance(step, threading.Event):
                break
            step.wait()
        if not isinstance(step, OrderRecord):
            return step
        try:
            self._log.append([step.encode()])
        except BaseException:
            with state.lock:
                state.undo_pay(reservation_id)
            raise
        with state.lock:
            state.settle(reservation_id)
        return "paid"

    def _reservation(self, sale_id: str, reservation_id: str) -> Reservation | None:
        state = self._sales.get(sale_id)
        if state is None:
            return None
        while True:
            with state.lock:
                found = state.lookup(reservation_id)
            if not isinstance(found, threading.Event):
                return found
            found.wait()  # its latest change is on its way to disk: answer once it is there

    def _end(self, sale_id: str, now_ms: int) -> bool:
        # Not logged: the sale's end lives in OLTP, from which a restarted engine is armed again.
        state = self._sales.get(sale_id)
        if state is None:
            return False
        with state.lock:
            state.end(now_ms)
        return True

    def _expire_due(self, now_ms: int) -> list[str]:
        expired: list[str] = []
        for state in list(self._sales.values()):
            with state.lock:
                due = state.begin_expiry(now_ms)
            if not due:
                continue
            try:
                self._log.append([record.encode() for record in due])
            except BaseException:
                with state.lock:
                    state.undo_expiry(due)
                raise
            with state.lock:
                state.finish_expiry(due)
            expired.extend(record.reservation_id for record in due)
        return expired

    def _counts(self, sale_id: str) -> SaleCounts | None:
        state = self._sales.get(sale_id)
        if state is None:
            return None
        with state.lock:
            return state.counts()

    def close(self) -> None:
        self._log.close()


def _read_history(segments: Path) -> dict[str, dict[str, OrderRecord]]:
    """Sale id -> reservation id -> its latest record, from every record in the log."""
    history: dict[str, dict[str, OrderRecord]] = {}
    for _, payload in scan(segments, 0):
        record = decode(payload)
        sale = history.setdefault(record.sale_id, {})
        sale[record.reservation_id] = later(sale.get(record.reservation_id), record)
    return history
