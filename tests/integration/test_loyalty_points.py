"""Points on both databases: lots spent first-in first-out by expiry, expiry runs, reversals that put
back exactly the lots taken, claw-backs into debt and the debt settled by the next points."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, TODAY, entry_count, new_membership

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty import ledger, points
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import loyalty_accounts, loyalty_entries, points_draws, points_lots


def _earn(engine: Engine, membership: int, amount: int, key: str, *, days: int) -> ledger.Posted:
    with engine.begin() as conn:
        return points.earn(
            conn,
            membership,
            amount,
            expires_on=TODAY + dt.timedelta(days=days),
            natural_key=key,
            order_id=f"order-{key}",
            actor="test",
            now=NOW,
        )


def _spend(
    engine: Engine, membership: int, amount: int, key: str, *, now: dt.datetime = NOW
) -> ledger.Posted:
    with engine.begin() as conn:
        return points.spend(
            conn, membership, amount, natural_key=key, reason="redeem", actor="test", now=now
        )


def _reverse_spend(
    engine: Engine, membership: int, spend_key: str, key: str, *, now: dt.datetime = NOW
) -> ledger.Posted:
    with engine.begin() as conn:
        return points.reverse_spend(
            conn, membership, spend_key=spend_key, natural_key=key, actor="test", now=now
        )


def _reverse_earn(
    engine: Engine, membership: int, earn_key: str, amount: int, key: str
) -> ledger.Posted:
    with engine.begin() as conn:
        return points.reverse_earn(
            conn,
            membership,
            earn_key=earn_key,
            points=amount,
            natural_key=key,
            actor="test",
            now=NOW,
        )


def _lots(engine: Engine, membership: int) -> dict[str, int]:
    """Remaining points per lot, by the natural key of the entry that credited it."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(loyalty_entries.c.natural_key, points_lots.c.remaining)
            .join(points_lots, points_lots.c.entry_id == loyalty_entries.c.id)
            .join(loyalty_accounts, loyalty_accounts.c.id == points_lots.c.account_id)
            .where(loyalty_accounts.c.membership_id == membership)
        )
        return {row.natural_key: row.remaining for row in rows}


def _balance(engine: Engine, membership: int) -> int:
    with engine.connect() as conn:
        return ledger.balance(conn, membership, "points")


def _assert_reconciled(engine: Engine) -> None:
    with engine.connect() as conn:
        assert reconcile(conn).differences == []


def test_spend_takes_the_soonest_expiring_lots_first(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "a", days=60)
    _earn(migrated_engine, member, 20, "b", days=30)
    _earn(migrated_engine, member, 20, "c", days=30)  # same expiry as b, credited later
    spent = _spend(migrated_engine, member, 50, "s")
    assert (spent.amount, spent.balance_after) == (-50, 90)
    assert _lots(migrated_engine, member) == {"a": 90, "b": 0, "c": 0}
    with migrated_engine.connect() as conn:
        drawn = conn.execute(
            select(points_draws.c.amount).where(points_draws.c.entry_id == spent.entry_id)
        ).scalars()
        assert sorted(drawn) == [10, 20, 20]
    _assert_reconciled(migrated_engine)


def test_a_retried_spend_takes_points_once(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "e", days=30)
    first = _spend(migrated_engine, member, 30, "s")
    again = _spend(migrated_engine, member, 30, "s")
    assert again.replayed and again.entry_id == first.entry_id
    assert _balance(migrated_engine, member) == 70
    with pytest.raises(Conflict) as caught:
        _spend(migrated_engine, member, 31, "s")
    assert caught.value.code == "ledger.key_reused"
    assert _lots(migrated_engine, member) == {"e": 70}


def test_spend_cannot_use_expired_or_missing_points(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    with pytest.raises(Conflict) as caught:
        _spend(migrated_engine, member, 1, "nothing")
    assert (caught.value.code, caught.value.field) == ("points.insufficient", "points")
    _earn(migrated_engine, member, 100, "old", days=-1)  # its last valid day was yesterday
    _earn(migrated_engine, member, 10, "new", days=0)  # valid today only
    with pytest.raises(Conflict) as caught:
        _spend(migrated_engine, member, 11, "too-much")
    assert caught.value.code == "points.insufficient"
    with migrated_engine.connect() as conn:
        assert entry_count(conn, member) == 2
    _spend(migrated_engine, member, 10, "ok")
    assert _lots(migrated_engine, member) == {"old": 100, "new": 0}
    with pytest.raises(InvalidInput):
        _spend(migrated_engine, member, 0, "zero")


def test_expiry_takes_what_lots_past_their_date_hold_once(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "soon", days=10)
    _earn(migrated_engine, member, 50, "later", days=20)
    _spend(migrated_engine, member, 30, "s")
    as_of = TODAY + dt.timedelta(days=11)
    with migrated_engine.begin() as conn:
        assert points.expire_due(conn, as_of=as_of, actor="job", now=NOW) >= 1
    with migrated_engine.begin() as conn:
        assert points.expire_due(conn, as_of=as_of, actor="job", now=NOW) == 0
    assert _lots(migrated_engine, member) == {"soon": 0, "later": 50}
    assert _balance(migrated_engine, member) == 50
    with migrated_engine.connect() as conn:
        history = ledger.history(conn, member, ["points"], limit=1, before_id=None)
    assert (history[0].kind, history[0].amount) == ("expire", -70)
    assert history[0].natural_key.startswith("expire:lot:")
    _assert_reconciled(migrated_engine)


def test_reverse_spend_restores_exactly_the_lots_drawn(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 50, "a", days=10)
    _earn(migrated_engine, member, 50, "b", days=20)
    _spend(migrated_engine, member, 70, "s1")
    _spend(migrated_engine, member, 10, "s2")
    assert _lots(migrated_engine, member) == {"a": 0, "b": 20}
    reversal = _reverse_spend(migrated_engine, member, "s1", "r1")
    assert (reversal.amount, reversal.balance_after, reversal.replayed) == (70, 90, False)
    assert _lots(migrated_engine, member) == {"a": 50, "b": 40}
    assert _reverse_spend(migrated_engine, member, "s1", "r1").replayed
    second_try = _reverse_spend(migrated_engine, member, "s1", "another-key")
    assert second_try.replayed and second_try.entry_id == reversal.entry_id
    assert _balance(migrated_engine, member) == 90
    with pytest.raises(NotFound) as caught:
        _reverse_spend(migrated_engine, member, "no-such-spend", "r2")
    assert (caught.value.code, caught.value.field) == ("points.spend_unknown", "spend_key")
    _assert_reconciled(migrated_engine)


def test_restored_points_of_an_expired_lot_expire_again_at_once(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 50, "short", days=5)
    _earn(migrated_engine, member, 50, "long", days=100)
    _spend(migrated_engine, member, 60, "s")  # short 50, long 10
    later = NOW + dt.timedelta(days=10)
    reversal = _reverse_spend(migrated_engine, member, "s", "r", now=later)
    assert reversal.balance_after == 100
    assert _lots(migrated_engine, member) == {"short": 0, "long": 50}
    assert _balance(migrated_engine, member) == 50
    with migrated_engine.connect() as conn:
        latest = ledger.history(conn, member, ["points"], limit=1, before_id=None)[0]
    assert (latest.kind, latest.amount, latest.natural_key) == ("expire", -50, "r:expire")
    _assert_reconciled(migrated_engine)


def test_restored_points_of_a_lot_the_expiry_run_emptied_expire_again(
    migrated_engine: Engine,
) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 40, "e", days=3)
    _spend(migrated_engine, member, 15, "s")
    with migrated_engine.begin() as conn:  # a run for a day ahead of the clock
        points.expire_due(conn, as_of=TODAY + dt.timedelta(days=4), actor="job", now=NOW)
    _reverse_spend(migrated_engine, member, "s", "r")
    assert _lots(migrated_engine, member) == {"e": 0}
    assert _balance(migrated_engine, member) == 0
    _assert_reconciled(migrated_engine)


def test_reverse_earn_claws_back_part_and_runs_into_debt(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "e1", days=30)
    _earn(migrated_engine, member, 50, "e2", days=10)
    _spend(migrated_engine, member, 120, "s")  # e2 50, e1 70
    clawed = _reverse_earn(migrated_engine, member, "e1", 40, "r1")  # e1's 30, then 10 of debt
    assert (clawed.amount, clawed.balance_after) == (-40, -10)
    assert _lots(migrated_engine, member) == {"e1": 0, "e2": 0}
    with pytest.raises(InvalidInput) as caught:
        _reverse_earn(migrated_engine, member, "e1", 61, "r2")
    assert (caught.value.code, caught.value.field) == ("points.reversal_exceeds_earn", "points")
    assert _reverse_earn(migrated_engine, member, "e1", 40, "r1").replayed
    assert _reverse_earn(migrated_engine, member, "e1", 60, "r2").balance_after == -70
    _assert_reconciled(migrated_engine)
    earned = _earn(migrated_engine, member, 100, "e3", days=60)  # settles the 70 owed
    assert earned.balance_after == 30
    assert _lots(migrated_engine, member) == {"e1": 0, "e2": 0, "e3": 30}
    with pytest.raises(Conflict):
        _spend(migrated_engine, member, 31, "s2")
    _reverse_spend(migrated_engine, member, "s", "rs")  # e2 50 and e1 70 come back
    assert _lots(migrated_engine, member) == {"e1": 70, "e2": 50, "e3": 30}
    assert _balance(migrated_engine, member) == 150
    with pytest.raises(NotFound) as missing:
        _reverse_earn(migrated_engine, member, "nope", 1, "r3")
    assert missing.value.code == "points.earn_unknown"
    _assert_reconciled(migrated_engine)


def test_reverse_earn_takes_its_own_lot_first(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 30, "early", days=5)
    _earn(migrated_engine, member, 30, "mine", days=50)
    _reverse_earn(migrated_engine, member, "mine", 20, "r")
    assert _lots(migrated_engine, member) == {"early": 30, "mine": 10}


def test_a_debt_is_settled_from_points_a_reversed_spend_restores(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "e", days=30)
    _spend(migrated_engine, member, 60, "s")
    assert _reverse_earn(migrated_engine, member, "e", 100, "r").balance_after == -60
    _reverse_spend(migrated_engine, member, "s", "rs")  # the 60 put back pay the debt
    assert _lots(migrated_engine, member) == {"e": 0}
    assert _balance(migrated_engine, member) == 0
    _assert_reconciled(migrated_engine)


def test_adjust_credits_a_lot_or_takes_like_a_spend(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    with migrated_engine.begin() as conn:
        credit = points.adjust(
            conn, member, 25, natural_key="fix+", reason="goodwill", actor="agent", now=NOW
        )
        debit = points.adjust(
            conn, member, -5, natural_key="fix-", reason="typo", actor="agent", now=NOW
        )
        again = points.adjust(
            conn, member, -5, natural_key="fix-", reason="typo", actor="agent", now=NOW
        )
    assert (credit.balance_after, debit.balance_after, again.replayed) == (25, 20, True)
    assert _lots(migrated_engine, member) == {"fix+": 20}
    with migrated_engine.begin() as conn, pytest.raises(Conflict):
        points.adjust(conn, member, -21, natural_key="big", reason="x", actor="agent", now=NOW)
    with migrated_engine.begin() as conn, pytest.raises(InvalidInput):
        points.adjust(conn, member, 0, natural_key="none", reason="x", actor="agent", now=NOW)
    with migrated_engine.connect() as conn:
        expiry = conn.scalar(
            select(points_lots.c.expires_on).where(points_lots.c.entry_id == credit.entry_id)
        )
    assert expiry == points.NEVER
    _assert_reconciled(migrated_engine)
