"""The in-process engine's own promise: nothing is acknowledged or kept unless its record reached the
log. A failing disk is simulated by an append that raises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.unit.flashsale.engines import OPEN, a_sale

from newretail.errors import Conflict
from newretail.flashsale import InProcessEngine, Reservation
from newretail.stream.filelog import FileEventLog

SALE = "fs-test"


class DiskFull(OSError):
    pass


def failing_append(self: FileEventLog, payloads: object) -> list[str]:
    raise DiskFull("no space left on device")


def test_a_failed_append_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = InProcessEngine(tmp_path)
    engine.arm(a_sale(SALE, stock={"SKU-A": 2}, limit=2, window_seconds=60))
    kept = engine.reserve(SALE, sku="SKU-A", person_id="p1", quantity=1, request_key="a", now=OPEN)
    assert isinstance(kept, Reservation)
    before = engine.counts(SALE)

    with monkeypatch.context() as disk:
        disk.setattr(FileEventLog, "append", failing_append)
        with pytest.raises(DiskFull):
            engine.reserve(SALE, sku="SKU-A", person_id="p2", quantity=1, request_key="b", now=OPEN)
        with pytest.raises(DiskFull):
            engine.pay(kept.id, now=OPEN)
        with pytest.raises(DiskFull):
            engine.expire_due(now=kept.expires_at)
    assert engine.counts(SALE) == before

    # The refused reservation was never made: the same click now makes it afresh.
    made = engine.reserve(SALE, sku="SKU-A", person_id="p2", quantity=1, request_key="b", now=OPEN)
    assert isinstance(made, Reservation) and not made.replayed
    # The refused expiry did not happen: the reservation expires at the next sweep.
    assert engine.expire_due(now=kept.expires_at) == [kept.id, made.id]
    with pytest.raises(Conflict):
        engine.pay(kept.id, now=OPEN)
    engine.close()

    # The log holds exactly what was acknowledged.
    restarted = InProcessEngine(tmp_path)
    restarted.arm(a_sale(SALE, stock={"SKU-A": 2}, limit=2, window_seconds=60))
    item = restarted.counts(SALE).items[0]
    assert (item.remaining, item.reserved, item.paid, item.expired) == (2, 2, 0, 2)
    restarted.close()


def test_a_failed_payment_keeps_the_reservation_due_for_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = InProcessEngine(tmp_path)
    engine.arm(a_sale(SALE, stock={"SKU-A": 1}, window_seconds=60))
    held = engine.reserve(SALE, sku="SKU-A", person_id="p1", quantity=1, request_key="a", now=OPEN)
    assert isinstance(held, Reservation)
    with monkeypatch.context() as disk:
        disk.setattr(FileEventLog, "append", failing_append)
        with pytest.raises(DiskFull):
            engine.pay(held.id, now=OPEN + dt.timedelta(seconds=1))
    assert engine.expire_due(now=held.expires_at) == [held.id]
    assert engine.counts(SALE).items[0].remaining == 1
    engine.close()
