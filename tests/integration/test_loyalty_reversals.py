"""Reversing an earn whose lot has partly expired, on both databases: the expired points absorb the
reversals first, so a refund never takes them twice, and refunds in parts claw back exactly what one
whole refund would."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, TODAY, new_membership

from newretail.errors import Conflict, InvalidInput
from newretail.loyalty import ledger, points
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import loyalty_entries

# The earn under test expires first; the other points last long after the expiry run.
OWN_DAYS, OTHER_DAYS = 5, 100
EXPIRY_RUN = TODAY + dt.timedelta(days=OWN_DAYS + 1)


def _earn(engine: Engine, member: int, amount: int, key: str, *, days: int) -> None:
    with engine.begin() as conn:
        points.earn(
            conn,
            member,
            amount,
            expires_on=TODAY + dt.timedelta(days=days),
            natural_key=key,
            order_id=None,
            actor="test",
            now=NOW,
        )


def _spend(engine: Engine, member: int, amount: int) -> None:
    with engine.begin() as conn:
        points.spend(conn, member, amount, natural_key="spend", reason="drink", actor="t", now=NOW)


def _expire(engine: Engine) -> None:
    with engine.begin() as conn:
        points.expire_due(conn, as_of=EXPIRY_RUN, actor="job", now=NOW)


def _reverse(engine: Engine, member: int, amount: int, key: str) -> ledger.Posted:
    with engine.begin() as conn:
        return points.reverse_earn(
            conn, member, earn_key="own", points=amount, natural_key=key, actor="t", now=NOW
        )


def _balance(engine: Engine, member: int) -> int:
    with engine.connect() as conn:
        return ledger.balance(conn, member, "points")


def _assert_reconciled(engine: Engine) -> None:
    with engine.connect() as conn:
        assert reconcile(conn).differences == []


def test_expired_points_absorb_a_refund_before_any_is_clawed_back(
    migrated_engine: Engine,
) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "own", days=OWN_DAYS)
    _earn(migrated_engine, member, 50, "other", days=OTHER_DAYS)
    _spend(migrated_engine, member, 60)  # all from the earn's own lot, which expires first
    _expire(migrated_engine)  # the 40 left on it expire
    assert _balance(migrated_engine, member) == 50

    first = _reverse(migrated_engine, member, 30, "refund-1")
    assert (first.amount, first.balance_after) == (0, 50)  # 30 of the 40 expired
    rest = _reverse(migrated_engine, member, 70, "refund-2")
    assert (rest.amount, rest.balance_after) == (-60, -10)  # 10 expired left, then 60: 50 + debt
    _assert_reconciled(migrated_engine)

    assert _reverse(migrated_engine, member, 70, "refund-2") == replace(rest, replayed=True)
    with pytest.raises(Conflict) as reused:
        _reverse(migrated_engine, member, 69, "refund-2")
    assert reused.value.code == "ledger.key_reused"
    with pytest.raises(InvalidInput) as beyond:
        _reverse(migrated_engine, member, 1, "refund-3")
    assert beyond.value.code == "points.reversal_exceeds_earn"
    with migrated_engine.connect() as conn:
        details = conn.scalars(
            select(loyalty_entries.c.detail)
            .where(loyalty_entries.c.kind == "reverse_earn", loyalty_entries.c.id >= first.entry_id)
            .where(loyalty_entries.c.account_id == first.account_id)
            .order_by(loyalty_entries.c.id)
        ).all()
    assert [(d["points"], d["absorbed_by_expiry"]) for d in details] == [(30, 30), (70, 10)]

    whole = new_membership(migrated_engine)  # the same story refunded in one go
    _earn(migrated_engine, whole, 100, "own", days=OWN_DAYS)
    _earn(migrated_engine, whole, 50, "other", days=OTHER_DAYS)
    _spend(migrated_engine, whole, 60)
    _expire(migrated_engine)
    assert _reverse(migrated_engine, whole, 100, "refund").amount == -60
    assert _balance(migrated_engine, whole) == _balance(migrated_engine, member) == -10
    _assert_reconciled(migrated_engine)


def test_a_reversal_before_the_expiry_run_claws_back_and_the_run_takes_the_rest(
    migrated_engine: Engine,
) -> None:
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, 100, "own", days=OWN_DAYS)
    assert _reverse(migrated_engine, member, 30, "early").amount == -30  # nothing expired yet
    _expire(migrated_engine)  # the 70 left expire
    late = _reverse(migrated_engine, member, 70, "late")
    assert (late.amount, late.balance_after) == (0, 0)  # lost once, to expiry
    _assert_reconciled(migrated_engine)


PARTS = st.lists(st.integers(1, 120), min_size=1, max_size=5)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    earned=st.integers(1, 200),
    other=st.integers(0, 200),
    spent=st.integers(0, 400),
    parts=PARTS,
    expire_at=st.integers(0, 6),
)
def test_reversals_claw_back_what_was_reversed_less_what_had_expired(
    migrated_engine: Engine, earned: int, other: int, spent: int, parts: list[int], expire_at: int
) -> None:
    """``expire_at``: how many reversals run before the expiry run (beyond their number: none)."""
    member = new_membership(migrated_engine)
    _earn(migrated_engine, member, earned, "own", days=OWN_DAYS)
    if other:
        _earn(migrated_engine, member, other, "other", days=OTHER_DAYS)
    spent = min(spent, earned + other)
    if spent:
        _spend(migrated_engine, member, spent)
    own_left = earned - min(spent, earned)  # spends draw the earn's own lot first
    expired = reversed_ = clawed = 0
    parts = [*parts, 0]  # a last round that only runs the expiry when it falls there
    for i, part in enumerate(parts):
        if i == expire_at:
            _expire(migrated_engine)
            expired, own_left = own_left, 0
        part = min(part, earned - reversed_)
        if part == 0:
            continue
        posted = _reverse(migrated_engine, member, part, f"refund-{i}")
        reversed_ += part
        claw = max(0, max(0, reversed_ - expired) - clawed)
        assert posted.amount == -claw
        own_left -= min(own_left, claw)
        clawed += claw
        if expire_at == 0:  # expiry came first: the parts add up to one whole refund
            assert clawed == max(0, reversed_ - expired)
    assert clawed <= reversed_
    assert _balance(migrated_engine, member) == earned + other - spent - expired - clawed
    _assert_reconciled(migrated_engine)
