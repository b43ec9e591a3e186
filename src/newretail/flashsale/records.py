"""The order record both engines append for every state change and the order writer consumes.

One line of ``|``-separated fields, the same bytes whether Python or a Redis Lua script wrote it::

    kind|at_ms|reservation_id|sale_id|sku|person_id|quantity|reserved_ms|expires_ms|request_key

``kind`` is ``R`` (reserved), ``P`` (paid) or ``X`` (expired) and ``at_ms`` when that happened, in
milliseconds since the epoch. Every record carries the whole reservation, so records can be applied
in any order and any number of times: a reservation's state only moves forward, from reserved to
paid or to expired (:func:`later`). The request key goes last so it alone may contain ``|``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from newretail.flashsale.results import ReservationStatus
from newretail.flashsale.sale import SALE_ID

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)
STATUS_OF_KIND = {
    "R": ReservationStatus.RESERVED,
    "P": ReservationStatus.PAID,
    "X": ReservationStatus.EXPIRED,
}
_FIELDS = 10
_SEQUENCE = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class OrderRecord:
    kind: str
    at_ms: int
    reservation_id: str
    sale_id: str
    sku: str
    person_id: str
    quantity: int
    reserved_ms: int
    expires_ms: int
    request_key: str

    @property
    def status(self) -> ReservationStatus:
        return STATUS_OF_KIND[self.kind]

    def encode(self) -> bytes:
        return (
            f"{self.kind}|{self.at_ms}|{self.reservation_id}|{self.sale_id}|{self.sku}|"
            f"{self.person_id}|{self.quantity}|{self.reserved_ms}|{self.expires_ms}|"
            f"{self.request_key}"
        ).encode()

    def moved_to(self, kind: str, at_ms: int) -> OrderRecord:
        """The record of this reservation's next state."""
        return OrderRecord(
            kind,
            at_ms,
            self.reservation_id,
            self.sale_id,
            self.sku,
            self.person_id,
            self.quantity,
            self.reserved_ms,
            self.expires_ms,
            self.request_key,
        )


def decode(payload: bytes) -> OrderRecord:
    """Parse one record; a payload that is not one raises ``ValueError`` (the log is corrupt)."""
    parts = payload.decode().split("|", _FIELDS - 1)
    if len(parts) != _FIELDS or parts[0] not in STATUS_OF_KIND:
        raise ValueError(f"not a flash-sale order record: {payload[:80]!r}")
    kind, at_ms, rid, sale_id, sku, person_id, quantity, reserved_ms, expires_ms, key = parts
    return OrderRecord(
        kind,
        int(at_ms),
        rid,
        sale_id,
        sku,
        person_id,
        int(quantity),
        int(reserved_ms),
        int(expires_ms),
        key,
    )


def later(current: OrderRecord | None, incoming: OrderRecord) -> OrderRecord:
    """Of two records of one reservation, the one with the further state (reserved < paid, expired)."""
    if current is None or (current.kind == "R" and incoming.kind != "R"):
        return incoming
    return current


def to_millis(at: dt.datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (integer arithmetic: no float rounding)."""
    return (at - EPOCH) // _MS


def from_millis(ms: int) -> dt.datetime:
    return EPOCH + ms * _MS


def reservation_id(sale_id: str, sequence: int) -> str:
    """Reservation ids are ``<sale id>-<n>``: unique, and the sale is found without a lookup."""
    return f"{sale_id}-{sequence}"


def sale_of(reservation: str) -> str | None:
    """The sale id inside a reservation id, or None when it is not one."""
    sale_id, _, sequence = reservation.rpartition("-")
    if SALE_ID.fullmatch(sale_id) and _SEQUENCE.fullmatch(sequence):
        return sale_id
    return None
