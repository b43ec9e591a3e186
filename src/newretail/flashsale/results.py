"""What the engine answers: a reservation or a rejection with a stable reason code, a payment, and
the live counts of a sale.

A rejection is returned, not raised, so the hot path pays for no exception and the counts can show
rejections by reason; :meth:`Rejection.error` gives the typed error the API maps to a 4xx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from newretail.errors import Conflict, Forbidden, NewRetailError, NotFound


class Reason(StrEnum):
    """Why a reservation was refused; the value is the stable error code."""

    UNKNOWN_SALE = "flashsale.unknown_sale"
    UNKNOWN_ITEM = "flashsale.unknown_item"
    NOT_STARTED = "flashsale.not_started"
    ENDED = "flashsale.ended"
    INELIGIBLE = "flashsale.ineligible"
    LIMIT_REACHED = "flashsale.limit_reached"
    SOLD_OUT = "flashsale.sold_out"

    @property
    def wire(self) -> str:
        """The short name the engines' records and counters use (``sold_out``)."""
        return self.value.removeprefix("flashsale.")


_ERRORS: Mapping[Reason, tuple[type[NewRetailError], str]] = {
    Reason.UNKNOWN_SALE: (NotFound, "there is no such sale"),
    Reason.UNKNOWN_ITEM: (NotFound, "this item is not in the sale"),
    Reason.NOT_STARTED: (Conflict, "the sale has not started yet"),
    Reason.ENDED: (Conflict, "the sale is over"),
    Reason.INELIGIBLE: (Forbidden, "this sale is not open to you"),
    Reason.LIMIT_REACHED: (Conflict, "you have reached the limit per person"),
    Reason.SOLD_OUT: (Conflict, "sold out"),
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused reservation; nothing was taken. One instance per reason (see :data:`REJECTIONS`)."""

    reason: Reason

    def error(self) -> NewRetailError:
        """The typed error for this rejection: 404, 403 or 409 with the reason as its code."""
        kind, message = _ERRORS[self.reason]
        return kind(self.reason.value, message)


# Shared instances: a rejection carries no per-call data, so the hot path allocates none.
REJECTIONS: Mapping[str, Rejection] = {reason.wire: Rejection(reason) for reason in Reason}


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    PAID = "paid"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Reservation:
    """Units held for a person until ``expires_at`` unless paid.

    ``replayed`` is true when the call repeated an earlier request key: the earlier reservation is
    returned as it stands now (it may since have been paid or have expired).
    """

    id: str
    sale_id: str
    sku: str
    person_id: str
    quantity: int
    expires_at: dt.datetime
    status: ReservationStatus
    replayed: bool


@dataclass(frozen=True, slots=True)
class Payment:
    """A reservation turned into a sale; ``replayed`` when it had been paid before."""

    reservation_id: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class ItemCounts:
    """Units of one SKU: ``initial`` stock, ``remaining`` in the engine, and units ever reserved, paid
    and expired. Units taken = initial - remaining = reserved - expired.
    """

    sku: str
    initial: int
    remaining: int
    reserved: int
    paid: int
    expired: int


@dataclass(frozen=True, slots=True)
class SaleCounts:
    """The live page's numbers: per item units (sorted by SKU), reservations/payments/expiries, and
    rejections by reason code (``flashsale.sold_out`` ...).
    """

    sale_id: str
    items: tuple[ItemCounts, ...]
    reservations: int
    payments: int
    expiries: int
    rejections: Mapping[str, int]
