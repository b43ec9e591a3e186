"""The state of one armed sale inside the in-process engine, and the transitions of its reservations.

Bookkeeping only: no I/O and no locking. The engine holds ``lock`` around every call and makes each
transition durable before anyone hears of it. A transition is applied here first with the
reservation marked *unsettled*; once its record is on disk the engine settles it, and if the append
fails it undoes it. Callers that meet an unsettled reservation wait for its event and ask again, so
nobody is answered from a state that a crash could still take back.

Units come back to stock only when an expiry settles: were they sold again before the expiry record
was durable, a crash would bring the old reservation back beside the new one, and oversell.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from dataclasses import dataclass

from newretail.flashsale.engine import PayOutcome
from newretail.flashsale.records import (
    STATUS_OF_KIND,
    OrderRecord,
    from_millis,
    reservation_id,
    to_millis,
)
from newretail.flashsale.results import (
    REJECTIONS,
    ItemCounts,
    Rejection,
    Reservation,
    SaleCounts,
)
from newretail.flashsale.sale import Sale

PayStep = PayOutcome | OrderRecord | threading.Event


@dataclass(slots=True)
class _Held:
    record: OrderRecord  # as reserved; its fields never change
    kind: str  # the current state: R, P or X


class SaleState:
    def __init__(self, sale: Sale, eligible: frozenset[str] | None) -> None:
        self.lock = threading.Lock()
        self.unsettled: dict[str, threading.Event] = {}
        self._sale_id = sale.id
        self._starts_ms = to_millis(sale.starts_at)
        self._ends_ms = to_millis(sale.ends_at)
        self._limit = sale.per_person_limit
        self._window_ms = sale.payment_window_seconds * 1000
        self._eligible = eligible  # None: everyone
        self._initial = {item.sku: item.stock for item in sale.items}
        self._remaining = dict(self._initial)
        self._held_units: Counter[str] = Counter()  # person -> units reserved or paid
        self._requests: dict[tuple[str, str], str] = {}
        self._reservations: dict[str, _Held] = {}
        self._deadlines: list[tuple[int, str]] = []  # a heap; paid entries are skipped lazily
        self._sequence = 0
        self._units = {kind: Counter[str]() for kind in "RPX"}  # kind -> sku -> units
        self._events: Counter[str] = Counter()  # kind -> reservations moved into it
        self._rejections: Counter[str] = Counter()

    # -- reserving -------------------------------------------------------------------------
    def reserve(
        self, sku: str, person_id: str, quantity: int, request_key: str, now_ms: int
    ) -> Reservation | Rejection | OrderRecord | threading.Event:
        """A replay or rejection to answer with, an event to wait for, or a new record to persist."""
        earlier = self._requests.get((person_id, request_key))
        if earlier is not None:
            return self.unsettled.get(earlier) or self._replay(earlier)
        if now_ms < self._starts_ms:
            return self._reject("not_started")
        if now_ms >= self._ends_ms:
            return self._reject("ended")
        if self._eligible is not None and person_id not in self._eligible:
            return self._reject("ineligible")
        remaining = self._remaining.get(sku)
        if remaining is None:
            return self._reject("unknown_item")
        if self._held_units[person_id] + quantity > self._limit:
            return self._reject("limit_reached")
        if remaining < quantity:
            return self._reject("sold_out")
        self._sequence += 1
        record = OrderRecord(
            "R",
            now_ms,
            reservation_id(self._sale_id, self._sequence),
            self._sale_id,
            sku,
            person_id,
            quantity,
            now_ms,
            now_ms + self._window_ms,
            request_key,
        )
        self._take(record)
        self.unsettled[record.reservation_id] = threading.Event()
        return record

    def undo_reserve(self, record: OrderRecord) -> None:
        del self._reservations[record.reservation_id]
        del self._requests[(record.person_id, record.request_key)]
        self._remaining[record.sku] += record.quantity
        self._held_units[record.person_id] -= record.quantity
        self._units["R"][record.sku] -= record.quantity
        self._events["R"] -= 1
        self.settle(record.reservation_id)

    # -- paying ----------------------------------------------------------------------------
    def pay(self, rid: str, now_ms: int) -> PayStep:
        """``unknown``/``replayed``/``expired``, an event to wait for, or the record to persist."""
        held = self._reservations.get(rid)
        if held is None:
            return "unknown"
        waiting = self.unsettled.get(rid)
        if waiting is not None:
            return waiting
        if held.kind == "P":
            return "replayed"
        if held.kind == "X" or now_ms >= held.record.expires_ms:
            return "expired"
        self._count_payment(held, 1)
        self.unsettled[rid] = threading.Event()
        return held.record.moved_to("P", now_ms)

    def undo_pay(self, rid: str) -> None:
        held = self._reservations[rid]
        self._count_payment(held, -1)
        # A sweep meanwhile dropped its deadline as paid; a duplicate entry is skipped when popped.
        heapq.heappush(self._deadlines, (held.record.expires_ms, rid))
        self.settle(rid)

    # -- looking up and ending ---------------------------------------------------------------
    def lookup(self, rid: str) -> Reservation | threading.Event | None:
        """The reservation as it stands, an event to wait for while its change is not durable, or
        None when the sale never made it."""
        if rid not in self._reservations:
            return None
        return self.unsettled.get(rid) or self._replay(rid, replayed=False)

    def end(self, now_ms: int) -> None:
        self._ends_ms = min(self._ends_ms, now_ms)

    # -- expiring --------------------------------------------------------------------------
    def begin_expiry(self, now_ms: int) -> list[OrderRecord]:
        """Mark the reservations due at ``now_ms`` expired; their units return in :meth:`finish_expiry`."""
        due: list[OrderRecord] = []
        in_flight: list[tuple[int, str]] = []
        while self._deadlines and self._deadlines[0][0] <= now_ms:
            entry = heapq.heappop(self._deadlines)
            held = self._reservations.get(entry[1])
            if held is None or held.kind != "R":
                continue
            if entry[1] in self.unsettled:
                in_flight.append(entry)
                continue
            held.kind = "X"
            self.unsettled[entry[1]] = threading.Event()
            due.append(held.record.moved_to("X", now_ms))
        for entry in in_flight:
            heapq.heappush(self._deadlines, entry)
        return due

    def finish_expiry(self, records: list[OrderRecord]) -> None:
        for record in records:
            self._give_back(record)
            self.settle(record.reservation_id)

    def undo_expiry(self, records: list[OrderRecord]) -> None:
        for record in records:
            self._reservations[record.reservation_id].kind = "R"
            heapq.heappush(self._deadlines, (record.expires_ms, record.reservation_id))
            self.settle(record.reservation_id)

    # -- rebuilding and counting -----------------------------------------------------------
    def restore(self, record: OrderRecord) -> None:
        """Apply the latest durable record of a reservation (on arming after a restart)."""
        self._take(record)
        self._sequence = max(self._sequence, int(record.reservation_id.rpartition("-")[2]))
        held = self._reservations[record.reservation_id]
        if record.kind == "P":
            self._count_payment(held, 1)
        elif record.kind == "X":
            held.kind = "X"
            self._give_back(record)

    def settle(self, rid: str) -> None:
        """The record of ``rid``'s last transition is durable: wake whoever waits on it."""
        self.unsettled.pop(rid).set()

    def counts(self) -> SaleCounts:
        reserved, paid, expired = (self._units[kind] for kind in "RPX")
        return SaleCounts(
            sale_id=self._sale_id,
            items=tuple(
                ItemCounts(
                    sku, initial, self._remaining[sku], reserved[sku], paid[sku], expired[sku]
                )
                for sku, initial in sorted(self._initial.items())
            ),
            reservations=self._events["R"],
            payments=self._events["P"],
            expiries=self._events["X"],
            rejections={REJECTIONS[wire].reason.value: n for wire, n in self._rejections.items()},
        )

    # -- internals -------------------------------------------------------------------------
    def _take(self, record: OrderRecord) -> None:
        rid = record.reservation_id
        self._reservations[rid] = _Held(record, "R")
        self._requests[(record.person_id, record.request_key)] = rid
        self._remaining[record.sku] -= record.quantity
        self._held_units[record.person_id] += record.quantity
        heapq.heappush(self._deadlines, (record.expires_ms, rid))
        self._units["R"][record.sku] += record.quantity
        self._events["R"] += 1

    def _give_back(self, record: OrderRecord) -> None:
        self._remaining[record.sku] += record.quantity
        self._held_units[record.person_id] -= record.quantity
        self._units["X"][record.sku] += record.quantity
        self._events["X"] += 1

    def _count_payment(self, held: _Held, sign: int) -> None:
        # +1 when a reservation is paid, -1 when a payment that never became durable is undone.
        held.kind = "P" if sign > 0 else "R"
        self._units["P"][held.record.sku] += sign * held.record.quantity
        self._events["P"] += sign

    def _reject(self, wire: str) -> Rejection:
        self._rejections[wire] += 1
        return REJECTIONS[wire]

    def _replay(self, rid: str, *, replayed: bool = True) -> Reservation:
        held = self._reservations[rid]
        record = held.record
        return Reservation(
            rid,
            record.sale_id,
            record.sku,
            record.person_id,
            record.quantity,
            from_millis(record.expires_ms),
            STATUS_OF_KIND[held.kind],
            replayed=replayed,
        )
