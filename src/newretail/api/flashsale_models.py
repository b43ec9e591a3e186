"""The flash-sale API's models: a sale as created and as read back with its live counts, uploads of a
person list, and the reservation route's request and answers (that route encodes them itself, see
:mod:`~newretail.api.reservations`; the models here document it and build nothing on its path)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, Field

from newretail.api.models import Create, Public
from newretail.flashsale import (
    Eligibility,
    GateFigures,
    Sale,
    SaleCounts,
    SaleDraft,
    SaleItem,
)
from newretail.flashsale.sale import SalePhase

MAX_LISTED = 100_000  # persons per request; larger lists go up in several uploads


class ItemCreate(Create):
    sku: str = Field(max_length=64, examples=["SKU-LATTE-GIFTBOX"])
    stock: int = Field(description="Units for sale.", examples=[50_000])
    price_minor: int = Field(description="Unit price in minor units (fen, cents).", examples=[990])
    currency: str = Field(description="ISO 4217.", examples=["CNY"])


class SaleCreate(Create):
    id: str | None = Field(None, description="Your id for the sale; one is made when omitted.")
    name: str = Field(max_length=200, examples=["Double 11 gift box"])
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    per_person_limit: int = Field(description="Units per person across all items.", examples=[2])
    payment_window_seconds: int = Field(
        900, description="How long a reservation waits for payment before its units go back."
    )
    channels: list[str] = Field(examples=[["app", "wechat_mini"]])
    eligibility: Eligibility = Eligibility.EVERYONE
    audience_id: str | None = Field(
        None, description="With eligibility `audience`: resolved to its persons when armed."
    )
    eligible_person_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_LISTED,
        description="With eligibility `list`: the persons who may buy (more can be uploaded).",
    )
    items: list[ItemCreate]

    def draft(self) -> SaleDraft:
        return SaleDraft(
            id=self.id,
            name=self.name,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            per_person_limit=self.per_person_limit,
            payment_window_seconds=self.payment_window_seconds,
            channels=self.channels,
            items=[SaleItem(i.sku, i.stock, i.price_minor, i.currency) for i in self.items],
            eligibility=self.eligibility,
            audience_id=self.audience_id,
            eligible_person_ids=self.eligible_person_ids,
        )


class ItemPublic(Public):
    sku: str
    stock: int = Field(description="Units put on sale.")
    price_minor: int
    currency: str
    remaining: int | None = Field(description="Units left in the engine; null until armed.")
    reserved: int | None = Field(description="Units ever reserved (expired ones included).")
    paid: int | None
    expired: int | None = Field(description="Units whose reservation expired unpaid.")


class CountsPublic(Public):
    reservations: int
    payments: int
    expiries: int
    rejections: dict[str, int] = Field(description="Refused reservations by error code.")
    waiting: int = Field(description="Callers holding a waiting-room ticket not yet due.")
    rate_limited: int = Field(description="Attempts refused by a per-person or per-address limit.")
    tickets: int = Field(description="Waiting-room tickets handed out since the sale was armed.")


class SalePublic(Public):
    id: str
    name: str
    status: Literal["draft", "armed"]
    phase: SalePhase = Field(description="draft, scheduled (armed, not open yet), open or ended.")
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime | None = Field(description="When it was closed early, if it was.")
    per_person_limit: int
    payment_window_seconds: int
    channels: list[str]
    eligibility: Eligibility
    audience_id: str | None
    items: list[ItemPublic]
    counts: CountsPublic | None = Field(description="Live counts; null until armed.")

    @classmethod
    def of(
        cls, sale: Sale, *, now: dt.datetime, counts: SaleCounts | None, gate: GateFigures | None
    ) -> SalePublic:
        live = {item.sku: item for item in counts.items} if counts is not None else {}
        return cls(
            id=sale.id,
            name=sale.name,
            status=sale.status.value,
            phase=sale.phase(now),
            starts_at=sale.starts_at,
            ends_at=sale.ends_at,
            closed_at=sale.closed_at,
            per_person_limit=sale.per_person_limit,
            payment_window_seconds=sale.payment_window_seconds,
            channels=list(sale.channels),
            eligibility=sale.eligibility,
            audience_id=sale.audience_id,
            items=[
                ItemPublic(
                    sku=item.sku,
                    stock=item.stock,
                    price_minor=item.price_minor,
                    currency=item.currency,
                    remaining=live[item.sku].remaining if item.sku in live else None,
                    reserved=live[item.sku].reserved if item.sku in live else None,
                    paid=live[item.sku].paid if item.sku in live else None,
                    expired=live[item.sku].expired if item.sku in live else None,
                )
                for item in sale.items
            ],
            counts=None
            if counts is None or gate is None
            else CountsPublic(
                reservations=counts.reservations,
                payments=counts.payments,
                expiries=counts.expiries,
                rejections=dict(counts.rejections),
                waiting=gate.waiting,
                rate_limited=gate.rate_limited,
                tickets=gate.tickets,
            ),
        )


class SalesPublic(Public):
    data: list[SalePublic]
    count: int


class EligibleUpload(Create):
    person_ids: list[str] = Field(max_length=MAX_LISTED, examples=[["P00000001", "P00000002"]])


class EligiblePublic(Public):
    sale_id: str
    persons: int = Field(description="Persons on the sale's list now.")


class ReservationCreate(Create):
    sku: str = Field(max_length=64, examples=["SKU-LATTE-GIFTBOX"])
    person_id: str = Field(max_length=64, description="The shopper the channel acts for.")
    quantity: int = Field(1, ge=1, le=100)
    ticket: str | None = Field(
        None, description="The waiting-room ticket from an earlier 202, when coming back with it."
    )


class ReservationPublic(Public):
    id: str
    sale_id: str
    sku: str
    person_id: str
    quantity: int
    status: Literal["reserved", "paid", "expired"]
    expires_at: dt.datetime = Field(description="Unpaid by then, the units go back to stock.")
    replayed: bool = Field(description="True when this answers a repeat of an earlier request.")


class WaitingPublic(Public):
    status: Literal["waiting"] = "waiting"
    sku: str
    person_id: str = Field(description="Whom the ticket is for: only they can use it.")
    quantity: int
    ticket: str = Field(description="Send it back as `ticket` after `retry_after` seconds.")
    position: int = Field(description="Your place in the queue: 1 is next.")
    retry_after: int = Field(description="Seconds to wait; also the Retry-After header.")


class PaymentPublic(Public):
    reservation_id: str
    status: Literal["paid"] = "paid"
    replayed: bool
