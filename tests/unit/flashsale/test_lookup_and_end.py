"""Reading a reservation as it stands, and ending a sale early, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.flashsale.engines import OPEN, START, Engines, a_sale
from tests.unit.flashsale.engines import engines as engines

from newretail.errors import NotFound
from newretail.flashsale import Reason, Rejection, Reservation, ReservationStatus

SALE = "fs-test"


def test_a_reservation_reads_back_as_it_moves_from_reserved_to_paid_or_expired(
    engines: Engines,
) -> None:
    engine = engines.open()
    engine.arm(a_sale(SALE, window_seconds=60))
    held = [
        engine.reserve(SALE, sku="SKU-A", person_id=p, quantity=1, request_key="k", now=OPEN)
        for p in ("p1", "p2")
    ]
    assert all(isinstance(r, Reservation) for r in held)
    first, second = (r.id for r in held if isinstance(r, Reservation))
    found = engine.reservation(first)
    assert (found.status, found.person_id, found.replayed) == (
        ReservationStatus.RESERVED,
        "p1",
        False,
    )
    engine.pay(first, now=OPEN + dt.timedelta(seconds=5))
    engine.expire_due(now=OPEN + dt.timedelta(minutes=5))
    assert engine.reservation(first).status is ReservationStatus.PAID
    assert engine.reservation(second).status is ReservationStatus.EXPIRED
    # After a restart too.
    engines.close(engine)
    again = engines.open()
    again.arm(a_sale(SALE, window_seconds=60))
    assert again.reservation(second).status is ReservationStatus.EXPIRED
    for unknown in (f"{SALE}-99", "fs-other-1", "nonsense"):
        with pytest.raises(NotFound) as caught:
            again.reservation(unknown)
        assert caught.value.code == "flashsale.unknown_reservation"


def test_ending_a_sale_refuses_later_reservations_and_keeps_earlier_ones(
    engines: Engines,
) -> None:
    engine = engines.open()
    engine.arm(a_sale(SALE, stock={"SKU-A": 10}))
    before = engine.reserve(
        SALE, sku="SKU-A", person_id="p1", quantity=1, request_key="k", now=OPEN
    )
    assert isinstance(before, Reservation)
    engine.end_sale(SALE, now=OPEN + dt.timedelta(seconds=1))
    engine.end_sale(SALE, now=OPEN + dt.timedelta(minutes=30))  # never moves the end later
    after = engine.reserve(
        SALE,
        sku="SKU-A",
        person_id="p2",
        quantity=1,
        request_key="k",
        now=OPEN + dt.timedelta(seconds=2),
    )
    assert after == Rejection(Reason.ENDED)
    engine.pay(before.id, now=OPEN + dt.timedelta(seconds=3))
    counts = engine.counts(SALE)
    assert (counts.items[0].remaining, counts.payments) == (9, 1)
    with pytest.raises(NotFound):
        engine.end_sale("fs-unknown", now=START)
