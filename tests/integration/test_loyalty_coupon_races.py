"""Coupon races on PostgreSQL, each racer a thread with its own connection and transaction: one coupon
redeemed by 100 at once is redeemed exactly once; concurrent issues never pass the template's budget
or a person's limit, nor issue one key twice."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from tests.integration.coupon_setup import NOW, ledger_disagreements, new_template, persons
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Conflict
from newretail.loyalty.coupon_issue import IssueResult
from newretail.loyalty.coupon_templates import get_template
from newretail.loyalty.coupons import get_coupon, issue, redeem
from newretail.oltp.tables import coupon_events, coupons

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, scope="module"),
]

T = TypeVar("T")
RACERS = 100
# Connections left for everything else on the server (other suites, psql, the fixtures).
_SPARE_CONNECTIONS = 15


@pytest.fixture(scope="module")
def racers(migrated_engine: Engine) -> Iterator[Engine]:
    """An engine that opens a new connection for every transaction (no pool to queue on)."""
    engine = create_engine(migrated_engine.url, poolclass=NullPool)
    yield engine
    engine.dispose()


def parallel_slots(engine: Engine) -> int:
    """How many connections this test may hold at once: all 100 when the server has room, else as
    many as it has free (the stock max_connections is 100, shared with every other client)."""
    with engine.connect() as conn:
        limit = conn.execute(text("SHOW max_connections")).scalar_one()
        used = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        ).scalar_one()
    return max(2, min(RACERS, int(limit) - int(used) - _SPARE_CONNECTIONS))


@contextlib.contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A new connection, waiting while the server is full: other suites share its 100 slots, and a
    racer that cannot connect yet has not raced."""
    for _ in range(200):
        try:
            conn = engine.connect()
        except OperationalError as error:
            if "too many clients" not in str(error):
                raise
            time.sleep(0.05)
            continue
        with conn:
            yield conn
        return
    raise RuntimeError("the server stayed full")


def race(
    engine: Engine, work: list[Callable[[Connection], T]], slots: int
) -> list[T | BaseException]:
    """Run each piece of work in its own thread, transaction and connection, all released at once
    (at most ``slots`` connected at a time); each one's result or error, in order."""
    start = threading.Barrier(len(work))
    gate = threading.BoundedSemaphore(slots)
    outcomes: list[T | BaseException] = [RuntimeError("did not finish")] * len(work)

    def run(index: int) -> None:
        start.wait()
        with gate:
            try:
                with connected(engine) as conn, conn.begin():
                    outcomes[index] = work[index](conn)
            except BaseException as error:
                outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_a_hundred_racing_redemptions_redeem_one_coupon_once(
    migrated_engine: Engine, racers: Engine
) -> None:
    template_id = new_template(migrated_engine)
    person = persons(1)[0]
    with migrated_engine.begin() as conn:
        coupon_id = issue(
            conn, template_id, [person], issue_key="r", actor="t", now=NOW
        ).coupon_ids[0]

    def redeem_on(order: int) -> Callable[[Connection], str]:
        def work(conn: Connection) -> str:
            redeem(
                conn,
                coupon_id,
                person_id=person,
                order_id=f"order-{order}",
                discount_minor=1000,
                actor="app",
                now=NOW,
            )
            # Hold the claim a moment so the others meet it uncommitted, not only committed.
            threading.Event().wait(0.2)
            return f"order-{order}"

        return work

    outcomes = race(racers, [redeem_on(i) for i in range(RACERS)], parallel_slots(migrated_engine))
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if not isinstance(o, str)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) and o.code == "coupon.used" for o in losers), losers
    with migrated_engine.connect() as conn:
        coupon = get_coupon(conn, coupon_id)
        redeemed = conn.execute(
            select(coupon_events.c.order_id).where(
                coupon_events.c.coupon_id == coupon_id, coupon_events.c.kind == "redeemed"
            )
        ).all()
    assert (coupon.status, coupon.order_id) == ("redeemed", winners[0])
    assert [row.order_id for row in redeemed] == winners
    assert ledger_disagreements(migrated_engine) == []


def test_racing_issues_keep_the_budget_and_the_per_person_limit(
    migrated_engine: Engine, racers: Engine
) -> None:
    budget, limit = 50, 2
    template_id = new_template(migrated_engine, budget_total=budget, per_person_limit=limit)
    people = persons(30)  # 30 persons x 2 = 60 coupons wanted, more than the budget

    def issue_wave(wave: int) -> Callable[[Connection], IssueResult]:
        chosen = [people[(wave * 7 + i) % len(people)] for i in range(10)]
        return lambda conn: issue(
            conn,
            template_id,
            chosen,
            issue_key=f"wave-{wave}",
            actor="job",
            now=NOW,
        )

    outcomes = race(racers, [issue_wave(w) for w in range(24)], parallel_slots(migrated_engine))
    results = [o for o in outcomes if isinstance(o, IssueResult)]
    assert len(results) == 24, outcomes
    with migrated_engine.connect() as conn:
        held = Counter(
            conn.execute(
                select(coupons.c.person_id).where(coupons.c.template_id == template_id)
            ).scalars()
        )
        issued_count = get_template(conn, template_id).issued_count
    assert sum(r.issued for r in results) == sum(held.values()) == issued_count == budget
    assert max(held.values()) <= limit
    assert sum(r.over_budget for r in results) > 0


def test_racing_issues_with_one_key_issue_each_person_once(
    migrated_engine: Engine, racers: Engine
) -> None:
    template_id = new_template(migrated_engine)
    people = persons(40)
    outcomes = race(
        racers,
        [
            lambda conn: issue(
                conn,
                template_id,
                people,
                issue_key="same",
                actor="job",
                now=NOW,
            )
            for _ in range(12)
        ],
        parallel_slots(migrated_engine),
    )
    results = [o for o in outcomes if isinstance(o, IssueResult)]
    assert len(results) == 12, outcomes
    assert sorted(r.issued for r in results) == [0] * 11 + [40]
    assert all(r.coupon_ids == results[0].coupon_ids for r in results)
    with migrated_engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(coupons).where(coupons.c.template_id == template_id)
        ).scalar_one()
    assert stored == 40
