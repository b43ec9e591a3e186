"""The engine contract, run on both engines: window, eligibility, limits, stock, idempotent clicks,
payment, expiry, counts, bad input, and state that survives a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import defaultdict

import pytest
from tests.unit.flashsale.engines import OPEN, START, Engines, a_sale
from tests.unit.flashsale.engines import engines as engines

from newretail.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.flashsale import (
    Eligibility,
    FlashSaleEngine,
    Reason,
    Rejection,
    Reservation,
    ReservationStatus,
)

SALE = "fs-test"


def reserve(
    engine: FlashSaleEngine,
    person: str,
    *,
    sku: str = "SKU-A",
    quantity: int = 1,
    key: str | None = None,
    now: dt.datetime = OPEN,
    sale: str = SALE,
) -> Reservation | Rejection:
    return engine.reserve(
        sale,
        sku=sku,
        person_id=person,
        quantity=quantity,
        request_key=key or f"{person}-{sku}-{quantity}",
        now=now,
    )


def accepted(outcome: Reservation | Rejection) -> Reservation:
    assert isinstance(outcome, Reservation), outcome
    return outcome


def reason(outcome: Reservation | Rejection) -> Reason:
    assert isinstance(outcome, Rejection), outcome
    return outcome.reason


def remaining(engine: FlashSaleEngine, sku: str = "SKU-A") -> int:
    return next(item.remaining for item in engine.counts(SALE).items if item.sku == sku)


def test_a_reservation_holds_stock_until_its_window_closes(engines: Engines) -> None:
    engine = engines.open()
    assert engine.arm(a_sale(window_seconds=90)) is True
    got = accepted(reserve(engine, "p1", quantity=2))
    assert (got.sale_id, got.sku, got.person_id, got.quantity) == (SALE, "SKU-A", "p1", 2)
    assert got.expires_at == OPEN + dt.timedelta(seconds=90)
    assert got.status is ReservationStatus.RESERVED and not got.replayed
    assert got.id.startswith(f"{SALE}-")
    assert remaining(engine) == 8


def test_the_sale_is_open_from_its_start_until_just_before_its_end(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale())
    end = START + dt.timedelta(hours=1)
    just_before = START - dt.timedelta(milliseconds=1)
    assert reason(reserve(engine, "early", now=just_before)) is Reason.NOT_STARTED
    accepted(reserve(engine, "first", now=START))
    accepted(reserve(engine, "last", now=end - dt.timedelta(milliseconds=1)))
    assert reason(reserve(engine, "late", now=end)) is Reason.ENDED
    assert remaining(engine) == 8


def test_only_listed_persons_may_buy_a_list_sale(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(eligibility=Eligibility.LIST), eligible=["p1", "p2"])
    accepted(reserve(engine, "p1"))
    assert reason(reserve(engine, "p3")) is Reason.INELIGIBLE
    assert reason(reserve(engine, "p3", key="another-click")) is Reason.INELIGIBLE
    assert remaining(engine) == 9


def test_a_sale_for_everyone_ignores_any_list(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(), eligible=["p1"])
    accepted(reserve(engine, "anybody"))


def test_unknown_sales_and_items_are_refused(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale())
    assert reason(reserve(engine, "p1", sale="fs-nothing")) is Reason.UNKNOWN_SALE
    assert reason(reserve(engine, "p1", sku="SKU-Z")) is Reason.UNKNOWN_ITEM
    with pytest.raises(NotFound) as caught:
        engine.counts("fs-nothing")
    assert caught.value.code == "flashsale.unknown_sale"


def test_the_limit_counts_units_across_items(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(stock={"SKU-A": 10, "SKU-B": 10}, limit=3))
    accepted(reserve(engine, "p1", sku="SKU-A", quantity=2))
    assert reason(reserve(engine, "p1", sku="SKU-B", quantity=2)) is Reason.LIMIT_REACHED
    accepted(reserve(engine, "p1", sku="SKU-B", quantity=1))
    assert reason(reserve(engine, "p1", sku="SKU-B", key="more")) is Reason.LIMIT_REACHED
    assert reason(reserve(engine, "p2", quantity=4)) is Reason.LIMIT_REACHED
    accepted(reserve(engine, "p2", quantity=3))


def test_exactly_the_stock_is_sold(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(stock={"SKU-A": 5}))
    outcomes = [reserve(engine, f"p{n}", quantity=2) for n in range(4)]
    assert [isinstance(o, Reservation) for o in outcomes] == [True, True, False, False]
    assert reason(outcomes[2]) is Reason.SOLD_OUT
    accepted(reserve(engine, "p9", quantity=1))
    assert reason(reserve(engine, "p8", quantity=1)) is Reason.SOLD_OUT
    assert remaining(engine) == 0


def test_a_repeated_request_key_returns_the_first_reservation(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale())
    first = accepted(reserve(engine, "p1", key="click-1"))
    again = accepted(reserve(engine, "p1", key="click-1", quantity=2, sku="SKU-A"))
    assert again.id == first.id and again.replayed and again.quantity == 1
    assert again.expires_at == first.expires_at
    other_person = accepted(reserve(engine, "p2", key="click-1"))
    assert other_person.id != first.id and not other_person.replayed
    assert remaining(engine) == 8
    assert engine.counts(SALE).reservations == 2


def test_bad_arguments_are_refused_and_change_nothing(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale())
    before = engine.counts(SALE)
    for field, arguments in (
        ("quantity", {"quantity": 0}),
        ("quantity", {"quantity": 101}),
        ("quantity", {"quantity": 1.0}),
        ("quantity", {"quantity": True}),
        ("person_id", {"person_id": "a|b"}),
        ("person_id", {"person_id": ""}),
        ("sku", {"sku": "x" * 65}),
        ("request_key", {"request_key": "has space"}),
        ("sale_id", {"sale_id": "no:colons"}),
    ):
        call = {
            "sale_id": SALE,
            "sku": "SKU-A",
            "person_id": "p1",
            "quantity": 1,
            "request_key": "k",
        }
        call.update(arguments)
        sale_id = call.pop("sale_id")
        with pytest.raises(InvalidInput) as caught:
            engine.reserve(sale_id, now=OPEN, **call)
        assert (caught.value.code, caught.value.field) == ("flashsale.bad_request", field)
    with pytest.raises(ValueError, match="naive"):
        reserve(engine, "p1", now=OPEN.replace(tzinfo=None))
    assert engine.counts(SALE) == before


def test_payment_is_idempotent_and_refused_once_the_window_has_closed(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(window_seconds=60))
    paid = accepted(reserve(engine, "p1"))
    late = accepted(reserve(engine, "p2"))
    assert engine.pay(paid.id, now=paid.expires_at - dt.timedelta(milliseconds=1)).replayed is False
    assert engine.pay(paid.id, now=paid.expires_at + dt.timedelta(hours=1)).replayed is True
    with pytest.raises(Conflict) as caught:
        engine.pay(late.id, now=late.expires_at)
    assert caught.value.code == "flashsale.reservation_expired"
    for unknown in (f"{SALE}-999", "fs-other-1", "nonsense", f"{SALE}-01", f"{SALE}-"):
        with pytest.raises(NotFound) as missing:
            engine.pay(unknown, now=OPEN)
        assert missing.value.code == "flashsale.unknown_reservation"
    counts = engine.counts(SALE)
    assert (counts.payments, counts.items[0].paid) == (1, 1)


def test_expiry_returns_stock_and_frees_the_limit(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(stock={"SKU-A": 3}, limit=2, window_seconds=60))
    unpaid = accepted(reserve(engine, "p1", quantity=2))
    paid = accepted(reserve(engine, "p2", quantity=1))
    engine.pay(paid.id, now=OPEN)
    assert reason(reserve(engine, "p3")) is Reason.SOLD_OUT
    assert engine.expire_due(now=unpaid.expires_at - dt.timedelta(milliseconds=1)) == []
    assert engine.expire_due(now=unpaid.expires_at) == [unpaid.id]
    assert engine.expire_due(now=unpaid.expires_at + dt.timedelta(hours=1)) == []
    assert remaining(engine) == 2
    with pytest.raises(Conflict):
        engine.pay(unpaid.id, now=OPEN)  # refused even at a time inside the window: it expired
    replay = accepted(reserve(engine, "p1", quantity=2))
    assert replay.id == unpaid.id and replay.status is ReservationStatus.EXPIRED
    assert engine.pay(paid.id, now=unpaid.expires_at).replayed is True
    accepted(reserve(engine, "p1", quantity=2, key="after-expiry"))
    counts = engine.counts(SALE)
    item = counts.items[0]
    assert (item.initial, item.reserved, item.paid, item.expired) == (3, 5, 1, 2)
    assert item.initial - item.remaining == item.reserved - item.expired
    assert (counts.reservations, counts.payments, counts.expiries) == (3, 1, 1)
    # Past the end and the last payment window, the sweep expires the rest and then finds nothing.
    after_all = START + dt.timedelta(hours=1, minutes=1)
    assert len(engine.expire_due(now=after_all)) == 1
    assert engine.expire_due(now=after_all + dt.timedelta(days=1)) == []
    assert engine.counts(SALE).expiries == 2
    assert remaining(engine) == 2


def test_rejections_are_counted_by_reason_and_map_to_typed_errors(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(stock={"SKU-A": 1}, eligibility=Eligibility.LIST), eligible=["p1", "p2"])
    accepted(reserve(engine, "p1"))
    outcomes = [
        reserve(engine, "p2"),
        reserve(engine, "p2", key="again"),
        reserve(engine, "p3"),
        reserve(engine, "p1", now=START - dt.timedelta(seconds=1), key="early"),
    ]
    assert engine.counts(SALE).rejections == {
        "flashsale.sold_out": 2,
        "flashsale.ineligible": 1,
        "flashsale.not_started": 1,
    }
    errors = [o.error() for o in outcomes if isinstance(o, Rejection)]
    assert [(type(e), e.code, e.http_status) for e in errors[1:3]] == [
        (Conflict, "flashsale.sold_out", 409),
        (Forbidden, "flashsale.ineligible", 403),
    ]


def test_state_survives_a_restart_and_arming_again_changes_nothing(engines: Engines) -> None:
    engine = engines.open()
    sale = a_sale(stock={"SKU-A": 5}, limit=2, eligibility=Eligibility.LIST)
    engine.arm(sale, eligible=["p1", "p2", "p3"])
    expired = accepted(reserve(engine, "p3", quantity=1))
    paid = accepted(reserve(engine, "p2", quantity=1))
    later = OPEN + dt.timedelta(seconds=30)
    kept = accepted(reserve(engine, "p1", quantity=2, now=later))
    engine.pay(paid.id, now=OPEN)
    assert engine.expire_due(now=expired.expires_at) == [expired.id]
    assert engine.arm(sale, eligible=["p1", "p2", "p3"]) is False
    before = engine.counts(SALE)
    engines.close(engine)

    restarted = engines.open()
    restarted.arm(sale, eligible=["p1", "p2", "p3"])
    after = restarted.counts(SALE)
    # Rejections are live-page statistics, which the in-process engine does not persist.
    assert dataclasses.replace(after, rejections={}) == dataclasses.replace(before, rejections={})
    again = accepted(reserve(restarted, "p1", quantity=2, now=later))
    assert (again.id, again.replayed) == (kept.id, True)
    assert reason(reserve(restarted, "p1", key="more")) is Reason.LIMIT_REACHED
    assert restarted.pay(paid.id, now=OPEN).replayed is True
    with pytest.raises(Conflict):
        restarted.pay(expired.id, now=OPEN)
    fresh = accepted(reserve(restarted, "p3", quantity=2, key="second-try"))
    assert int(fresh.id.rpartition("-")[2]) == 4  # ids carry on after the restart, never repeat
    assert reason(reserve(restarted, "p4")) is Reason.INELIGIBLE
    assert remaining(restarted) == 0


def test_async_reservations_share_the_stock_with_sync_ones(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(stock={"SKU-A": 50}, limit=1))

    async def hammer() -> tuple[list[Reservation | Rejection], int]:
        calls = [
            engine.areserve(
                SALE, sku="SKU-A", person_id=f"p{n % 80}", quantity=1, request_key="k", now=OPEN
            )
            for n in range(400)
        ]
        outcomes = await asyncio.gather(*calls)
        left = remaining(engine)
        await engine.aclose()
        return outcomes, left

    accepted(reserve(engine, "sync-buyer"))
    outcomes, left = asyncio.run(hammer())
    assert left == 0
    ids_by_person: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes:
        if isinstance(outcome, Reservation):
            ids_by_person[outcome.person_id].add(outcome.id)
    assert len(ids_by_person) == 49  # five clicks each with one key: one reservation a person
    assert all(len(ids) == 1 for ids in ids_by_person.values())
    assert {o.reason for o in outcomes if isinstance(o, Rejection)} == {Reason.SOLD_OUT}
