"""Flash sales: create, upload a person list, arm, close and read sales with their live counts
(``flashsales.manage`` / ``flashsales.read``), and a reservation's state and its payment
(``flashsales.reserve``, a channel's backend).

Reserving itself is the hot path, served in front of FastAPI by :mod:`newretail.api.reservations`.
Payment takes an Idempotency-Key like every mutating call, and, like a reservation, is made
idempotent by the engine rather than by an OLTP row: paying a reservation again answers
``replayed`` and changes nothing, and at the peak a payment follows nearly every reservation.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Header, Path, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, KeyPrincipal, Now, RuntimeDep
from newretail.api.flashsale_models import (
    EligiblePublic,
    EligibleUpload,
    PaymentPublic,
    ReservationPublic,
    SaleCreate,
    SalePublic,
    SalesPublic,
)
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.runtime import Runtime
from newretail.errors import NotFound
from newretail.flashsale import Sale, SaleCounts, SaleStatus, actions, get_sale, list_sales
from newretail.flashsale.records import sale_of, to_millis
from newretail.security import Permission

router = APIRouter(prefix="/api/v1/flashsales", tags=["flashsales"])

SaleId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
ReservationId = Annotated[str, Path(min_length=1, max_length=64)]
RequiredKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Required; the engine makes a repeat of the same payment change nothing.",
    ),
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SalePublic)
def create_flashsale(
    payload: SaleCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Create a draft sale: items with stock and price, window, per-person limit, eligibility
    (everyone, an uploaded list or an audience) and channels."""
    principal.require(Permission.FLASHSALES_MANAGE)

    def work() -> SalePublic:
        sale = actions.create(conn, payload.draft(), actor=principal, now=now)
        return public(runtime, sale, now=now)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("")
def read_flashsales(
    conn: DbConn, principal: CurrentPrincipal, runtime: RuntimeDep, now: Now, page: Page
) -> SalesPublic:
    """Every sale, the latest start first, each with its live counts once armed."""
    principal.require(Permission.FLASHSALES_READ)
    sales = list_sales(conn)
    data = [public(runtime, sale, now=now) for sale in page.page(sales)]
    return SalesPublic(data=data, count=len(sales))


@router.get("/{sale_id}")
def read_flashsale(
    sale_id: SaleId, conn: DbConn, principal: CurrentPrincipal, runtime: RuntimeDep, now: Now
) -> SalePublic:
    """One sale with its live counts: units left per item, reservations, payments, expiries,
    rejections by code and the waiting room's length."""
    principal.require(Permission.FLASHSALES_READ)
    return public(runtime, get_sale(conn, sale_id), now=now)


@router.post("/{sale_id}/eligible", response_model=EligiblePublic)
def upload_eligible(
    sale_id: SaleId,
    payload: EligibleUpload,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Add up to 100,000 persons to a draft list sale; a person already listed stays listed once."""
    principal.require(Permission.FLASHSALES_MANAGE)

    def work() -> EligiblePublic:
        persons = actions.upload_list(conn, sale_id, payload.person_ids, actor=principal, now=now)
        return EligiblePublic(sale_id=sale_id, persons=persons)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/{sale_id}/arm", response_model=SalePublic)
def arm_flashsale(
    sale_id: SaleId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Load the sale into the engine (stock, limit, window, eligible persons); it opens at its
    start. Arming again changes nothing."""
    principal.require(Permission.FLASHSALES_MANAGE)

    def work() -> SalePublic:
        sale = actions.arm(conn, runtime.flashsale, sale_id, actor=principal, now=now)
        return public(runtime, sale, now=now)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/{sale_id}/close", response_model=SalePublic)
def close_flashsale(
    sale_id: SaleId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """End an armed sale now: every later reservation is refused as ``flashsale.ended``; those
    made before keep their payment window."""
    principal.require(Permission.FLASHSALES_MANAGE)

    def work() -> SalePublic:
        sale = actions.close(conn, runtime.flashsale, sale_id, actor=principal, now=now)
        return public(runtime, sale, now=now)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.get("/{sale_id}/reservations/{reservation_id}")
def read_reservation(
    sale_id: SaleId, reservation_id: ReservationId, principal: KeyPrincipal, runtime: RuntimeDep
) -> ReservationPublic:
    """A reservation as it stands now: reserved, paid or expired."""
    if not principal.can(Permission.FLASHSALES_RESERVE):
        principal.require(Permission.FLASHSALES_READ)
    found = runtime.flashsale.reservation(_in_sale(sale_id, reservation_id))
    return ReservationPublic.model_validate(found)


@router.post("/{sale_id}/reservations/{reservation_id}/payment")
def pay_reservation(
    sale_id: SaleId,
    reservation_id: ReservationId,
    principal: KeyPrincipal,
    runtime: RuntimeDep,
    now: Now,
    _key: RequiredKey,
) -> PaymentPublic:
    """Record that the shopper paid: the reservation becomes an order that no expiry takes back.
    409 ``flashsale.reservation_expired`` once its payment window has closed."""
    principal.require(Permission.FLASHSALES_RESERVE)
    payment = runtime.flashsale.pay(_in_sale(sale_id, reservation_id), now=now)
    return PaymentPublic(reservation_id=payment.reservation_id, replayed=payment.replayed)


def public(runtime: Runtime, sale: Sale, *, now: dt.datetime) -> SalePublic:
    """The sale with its live counts (from a worker thread: the gate is asked on the event loop)."""
    counts: SaleCounts | None = None
    gate = None
    if sale.status is SaleStatus.ARMED:
        try:
            counts = runtime.flashsale.counts(sale.id)
        except NotFound:  # armed in OLTP, but the engine lost it (a Redis that kept nothing)
            counts = None
        gate = anyio.from_thread.run(partial(runtime.gate.figures, sale.id, now_ms=to_millis(now)))
    return SalePublic.of(sale, now=now, counts=counts, gate=gate)


def _in_sale(sale_id: str, reservation_id: str) -> str:
    if sale_of(reservation_id) != sale_id:
        raise NotFound("flashsale.unknown_reservation", "there is no such reservation")
    return reservation_id
