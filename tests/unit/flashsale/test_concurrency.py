"""Thousands of concurrent reservations for less stock, on both engines (threads) and on Redis from
several processes: exactly the stock is sold, limits hold, ineligible persons get nothing, repeated
request keys take stock once; and payment racing expiry never leaves a reservation both or neither.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.unit.flashsale.engines import OPEN, Engines, a_sale
from tests.unit.flashsale.engines import engines as engines

from newretail.errors import Conflict
from newretail.flashsale import Eligibility, FlashSaleEngine, Reservation

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("child.py")
SALE = "fs-test"
STOCK = {"SKU-A": 300, "SKU-B": 200}
LIMIT = 2
ELIGIBLE = 1_200  # persons p0 .. p1199 may buy; p1200 .. p1499 may not
PERSONS = 1_500


@dataclass(frozen=True)
class Answer:
    """One call's answer as the caller saw it."""

    person: str
    key: str
    reservation_id: str | None
    units: int
    reason: str | None


def arm(engine: FlashSaleEngine) -> None:
    engine.arm(
        a_sale(SALE, stock=STOCK, limit=LIMIT, eligibility=Eligibility.LIST),
        eligible=[f"p{n}" for n in range(ELIGIBLE)],
    )


def check_the_sale(engine: FlashSaleEngine, answers: list[Answer]) -> None:
    reservations: dict[str, Answer] = {}
    ids_by_click: dict[tuple[str, str], set[str]] = defaultdict(set)
    for answer in answers:
        if answer.reservation_id is not None:
            reservations[answer.reservation_id] = answer
            ids_by_click[(answer.person, answer.key)].add(answer.reservation_id)
    units_by_person: dict[str, int] = defaultdict(int)
    for answer in reservations.values():
        units_by_person[answer.person] += answer.units
    assert sum(units_by_person.values()) == sum(STOCK.values()), "not exactly the stock was sold"
    assert max(units_by_person.values()) <= LIMIT
    assert all(int(person[1:]) < ELIGIBLE for person in units_by_person), "an ineligible buyer"
    assert all(len(ids) == 1 for ids in ids_by_click.values()), "a repeated click took stock twice"
    counts = engine.counts(SALE)
    assert [(i.remaining, i.reserved) for i in counts.items] == [(0, 300), (0, 200)]
    assert counts.reservations == len(reservations)
    rejected = {a.reason for a in answers if a.reason is not None}
    assert {"flashsale.sold_out", "flashsale.ineligible", "flashsale.limit_reached"} <= rejected


def test_threads_sell_exactly_the_stock(engines: Engines) -> None:
    engine = engines.open()
    arm(engine)
    answers: list[Answer] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def shopper(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        start.wait()
        for _ in range(250):
            person, key = f"p{rng.randrange(PERSONS)}", f"k{rng.randrange(3)}"
            outcome = engine.reserve(
                SALE,
                sku=rng.choice(list(STOCK)),
                person_id=person,
                quantity=rng.choice([1, 1, 2]),
                request_key=key,
                now=OPEN,
            )
            if isinstance(outcome, Reservation):
                mine.append(Answer(person, key, outcome.id, outcome.quantity, None))
            else:
                mine.append(Answer(person, key, None, 0, outcome.reason.value))
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=shopper, args=(seed,)) for seed in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4_000
    check_the_sale(engine, answers)


@pytest.mark.redis
@pytest.mark.parametrize("engines", ["redis"], indirect=True)
def test_processes_sell_exactly_the_stock_on_redis(engines: Engines) -> None:
    engine = engines.open()
    arm(engine)
    env = {**os.environ, **engines.env(), "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), "reserve", SALE, str(seed), "1500", str(PERSONS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in range(4)
    ]
    answers = []
    for child in children:
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0
        for line in out.splitlines():
            kind, *fields = line.split()
            if kind == "R":
                rid, person, units, key = fields
                answers.append(Answer(person, key, rid, int(units), None))
            else:
                reason, person = fields
                answers.append(Answer(person, "", None, 0, reason))
    assert len(answers) == 6_000
    check_the_sale(engine, answers)


def test_payment_racing_expiry_ends_in_exactly_one_of_them(engines: Engines) -> None:
    engine = engines.open()
    engine.arm(a_sale(SALE, stock={"SKU-A": 400}, limit=1, window_seconds=60))
    reservations = []
    for n in range(400):
        # One millisecond apart, so payers and the sweeper walk the deadlines side by side.
        outcome = engine.reserve(
            SALE,
            sku="SKU-A",
            person_id=f"p{n}",
            quantity=1,
            request_key="k",
            now=OPEN + dt.timedelta(milliseconds=n),
        )
        assert isinstance(outcome, Reservation)
        reservations.append(outcome)
    paid: set[str] = set()
    refused: set[str] = set()
    expired: list[str] = []
    go = threading.Barrier(3)

    def payer(share: list[Reservation]) -> None:
        go.wait()
        for reservation in share:
            # The last millisecond of the window: valid unless the expiry got there first.
            try:
                engine.pay(
                    reservation.id, now=reservation.expires_at - dt.timedelta(milliseconds=1)
                )
                paid.add(reservation.id)
            except Conflict:
                refused.add(reservation.id)

    def sweeper() -> None:
        go.wait()
        for reservation in reservations:
            expired.extend(engine.expire_due(now=reservation.expires_at))

    threads = [
        threading.Thread(target=payer, args=(reservations[0::2],)),
        threading.Thread(target=payer, args=(reservations[1::2],)),
        threading.Thread(target=sweeper),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert paid.isdisjoint(expired)
    assert set(expired) == refused
    assert len(paid) + len(expired) == 400
    item = engine.counts(SALE).items[0]
    assert (item.remaining, item.paid, item.expired) == (len(expired), len(paid), len(expired))
