"""Races on one balance: many threads, each with its own connection and transaction, pay, spend,
retry and reverse at once. On PostgreSQL every thread holds its own server connection; on SQLite the
writers queue at BEGIN IMMEDIATE. Either way no wallet goes below 0 and every key takes effect once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, TODAY, entry_count, new_membership

from newretail.errors import NewRetailError
from newretail.loyalty import ledger, points, wallet
from newretail.loyalty.reconcile import reconcile


@pytest.fixture(scope="module")
def racing(database_url: str, migrated_engine: Engine) -> Iterator[Engine]:
    """An engine that gives each thread a connection of its own (PostgreSQL: no pool at all)."""
    if migrated_engine.dialect.name != "postgresql":
        yield migrated_engine
        return
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def race(engine: Engine, count: int, work: Callable[[Connection, int], object]) -> Counter[str]:
    """Run ``work(conn, n)`` for n in range(count) at once, each in its own transaction; how many
    ended in each error code ("ok" when it committed)."""
    start = threading.Barrier(count)

    def one(number: int) -> str:
        start.wait()
        try:
            with engine.begin() as conn:
                work(conn, number)
        except NewRetailError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(one, range(count)))


def _assert_reconciled(engine: Engine) -> None:
    with engine.connect() as conn:
        assert reconcile(conn).differences == []


def _top_up(engine: Engine, member: int, amount: int, bonus: int) -> None:
    with engine.begin() as conn:
        wallet.top_up(
            conn,
            member,
            amount,
            bonus_minor=bonus,
            currency="CNY",
            natural_key="top-up",
            payment_method="cash",
            actor="test",
            now=NOW,
        )


def test_fifty_parallel_payments_never_overdraw_the_wallet(racing: Engine) -> None:
    member = new_membership(racing)
    _top_up(racing, member, 1000, 37)

    def pay(conn: Connection, number: int) -> None:
        wallet.pay(conn, member, 100, natural_key=f"p{number}", order_id=None, actor="t", now=NOW)

    outcomes = race(racing, 50, pay)
    assert outcomes == Counter({"ok": 1037 // 100, "wallet.insufficient": 50 - 1037 // 100})
    with racing.connect() as conn:
        held = wallet.balances(conn, member)
    assert held.principal_minor >= 0 and held.bonus_minor >= 0
    assert held.principal_minor + held.bonus_minor == 1037 - 100 * (1037 // 100)
    _assert_reconciled(racing)


def test_a_payment_retried_in_parallel_takes_effect_once(racing: Engine) -> None:
    member = new_membership(racing)
    _top_up(racing, member, 500, 0)

    def pay(conn: Connection, _number: int) -> None:
        wallet.pay(conn, member, 120, natural_key="same", order_id=None, actor="t", now=NOW)

    assert race(racing, 20, pay) == Counter({"ok": 20})
    with racing.connect() as conn:
        assert wallet.balances(conn, member).principal_minor == 380
        assert entry_count(conn, member) == 2
    _assert_reconciled(racing)


def test_first_top_ups_in_parallel_open_one_account(racing: Engine) -> None:
    member = new_membership(racing)

    def top_up(conn: Connection, number: int) -> None:
        wallet.top_up(
            conn,
            member,
            100,
            bonus_minor=10,
            currency="CNY",
            natural_key=f"t{number}",
            payment_method="cash",
            actor="t",
            now=NOW,
        )

    assert race(racing, 20, top_up) == Counter({"ok": 20})
    with racing.connect() as conn:
        assert wallet.balances(conn, member) == wallet.WalletBalance(2000, 200, "CNY")
    _assert_reconciled(racing)


def test_parallel_spends_never_take_more_points_than_there_are(racing: Engine) -> None:
    member = new_membership(racing)
    with racing.begin() as conn:
        for number, days in enumerate((5, 50, 20)):
            points.earn(
                conn,
                member,
                85,
                expires_on=TODAY + dt.timedelta(days=days),
                natural_key=f"e{number}",
                order_id=None,
                actor="t",
                now=NOW,
            )

    def spend(conn: Connection, number: int) -> None:
        points.spend(conn, member, 10, natural_key=f"s{number}", reason="r", actor="t", now=NOW)

    assert race(racing, 30, spend) == Counter({"ok": 25, "points.insufficient": 5})
    with racing.connect() as conn:
        assert ledger.balance(conn, member, "points") == 5
    _assert_reconciled(racing)


def test_one_spend_reversed_in_parallel_under_many_keys_comes_back_once(racing: Engine) -> None:
    member = new_membership(racing)
    with racing.begin() as conn:
        points.earn(
            conn,
            member,
            100,
            expires_on=TODAY + dt.timedelta(days=30),
            natural_key="e",
            order_id=None,
            actor="t",
            now=NOW,
        )
        points.spend(conn, member, 60, natural_key="s", reason="r", actor="t", now=NOW)

    def reverse(conn: Connection, number: int) -> None:
        points.reverse_spend(
            conn, member, spend_key="s", natural_key=f"r{number}", actor="t", now=NOW
        )

    assert race(racing, 20, reverse) == Counter({"ok": 20})
    with racing.connect() as conn:
        assert ledger.balance(conn, member, "points") == 100
        assert entry_count(conn, member) == 3
    _assert_reconciled(racing)


def test_expiry_runs_in_parallel_expire_each_lot_once(racing: Engine) -> None:
    members = [new_membership(racing) for _ in range(5)]
    with racing.begin() as conn:
        for member in members:
            for number in range(3):
                points.earn(
                    conn,
                    member,
                    10,
                    expires_on=TODAY,
                    natural_key=f"e{number}",
                    order_id=None,
                    actor="t",
                    now=NOW,
                )
    as_of = TODAY + dt.timedelta(days=1)
    expired: list[int] = []

    def expire(conn: Connection, _number: int) -> None:
        expired.append(points.expire_due(conn, as_of=as_of, actor="job", now=NOW))

    assert race(racing, 6, expire) == Counter({"ok": 6})
    assert sum(expired) == 15
    with racing.connect() as conn:
        assert all(ledger.balance(conn, member, "points") == 0 for member in members)
        assert all(entry_count(conn, member) == 6 for member in members)
    _assert_reconciled(racing)
