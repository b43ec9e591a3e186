"""The balance ledger on both databases: posting, replays under a natural key, the wallet floor,
history, and reconciliation finding every kind of difference."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, delete, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, TODAY, entry_count, new_coupon, new_membership

from newretail.errors import Conflict, NotFound
from newretail.loyalty import ledger, points
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import coupons, loyalty_accounts, loyalty_entries, points_lots


def _post(
    engine: Engine, account: int, amount: int, key: str, kind: str = "adjust"
) -> ledger.Posted:
    with engine.begin() as conn:
        return ledger.post(
            conn,
            account,
            kind=kind,
            amount=amount,
            natural_key=key,
            order_id=None,
            detail={"why": "test"},
            actor="test",
            now=NOW,
        )


def _account(engine: Engine, membership: int, kind: ledger.AccountKind) -> int:
    with engine.begin() as conn:
        return ledger.account_id(
            conn, membership, kind, currency=None if kind == "points" else "CNY", now=NOW
        )


def test_account_id_creates_once(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    first = _account(migrated_engine, membership, "wallet")
    assert _account(migrated_engine, membership, "wallet") == first
    assert _account(migrated_engine, membership, "points") != first
    with migrated_engine.begin() as conn, pytest.raises(NotFound) as caught:
        ledger.account_id(conn, 10**9, "points", currency=None, now=NOW)
    assert caught.value.code == "membership.unknown"


def test_post_moves_the_balance_and_chains_balance_after(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    account = _account(migrated_engine, membership, "wallet")
    first = _post(migrated_engine, account, 100, "a", kind="topup")
    second = _post(migrated_engine, account, -30, "b", kind="pay")
    assert (first.balance_after, second.balance_after) == (100, 70)
    assert not first.replayed and not second.replayed
    with migrated_engine.connect() as conn:
        assert ledger.balance(conn, membership, "wallet") == 70
        assert ledger.balance(conn, membership, "points") == 0


def test_a_repeated_natural_key_changes_nothing(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    account = _account(migrated_engine, membership, "wallet")
    original = _post(migrated_engine, account, 500, "topup-1", kind="topup")
    again = _post(migrated_engine, account, 500, "topup-1", kind="topup")
    assert again == ledger.Posted(original.entry_id, account, 500, 500, replayed=True)
    with migrated_engine.connect() as conn:
        assert ledger.balance(conn, membership, "wallet") == 500
        assert entry_count(conn, membership) == 1


@pytest.mark.parametrize(("amount", "kind"), [(501, "topup"), (500, "adjust")])
def test_a_natural_key_reused_for_another_change_is_refused(
    migrated_engine: Engine, amount: int, kind: str
) -> None:
    membership = new_membership(migrated_engine)
    account = _account(migrated_engine, membership, "wallet")
    _post(migrated_engine, account, 500, "topup-1", kind="topup")
    with pytest.raises(Conflict) as caught:
        _post(migrated_engine, account, amount, "topup-1", kind=kind)
    assert caught.value.code == "ledger.key_reused"


def test_a_wallet_account_never_goes_below_zero(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    account = _account(migrated_engine, membership, "wallet_bonus")
    _post(migrated_engine, account, 100, "in", kind="bonus")
    with pytest.raises(Conflict) as caught:
        _post(migrated_engine, account, -101, "out", kind="pay")
    assert (caught.value.code, caught.value.field) == ("wallet.insufficient", "wallet")
    with migrated_engine.connect() as conn:
        assert ledger.balance(conn, membership, "wallet_bonus") == 100
        assert entry_count(conn, membership) == 1
    assert _post(migrated_engine, account, -100, "out", kind="pay").balance_after == 0


def test_open_account_creates_once_and_hands_back_the_row_locked(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    with migrated_engine.begin() as conn:
        opened = ledger.open_account(conn, membership, "wallet", currency="CNY", now=NOW)
        again = ledger.open_account(conn, membership, "wallet", currency="CNY", now=NOW)
    assert (opened.membership_id, opened.kind, opened.currency, opened.balance) == (
        membership,
        "wallet",
        "CNY",
        0,
    )
    assert again == opened
    assert _account(migrated_engine, membership, "wallet") == opened.id
    with migrated_engine.begin() as conn, pytest.raises(NotFound) as caught:
        ledger.open_account(conn, 10**9, "points", currency=None, now=NOW)
    assert caught.value.code == "membership.unknown"


def test_append_many_chains_balances_and_writes_nothing_when_one_would_overdraw(
    migrated_engine: Engine,
) -> None:
    membership = new_membership(migrated_engine)
    with migrated_engine.begin() as conn:
        principal = ledger.open_account(conn, membership, "wallet", currency="CNY", now=NOW)
        bonus = ledger.open_account(conn, membership, "wallet_bonus", currency="CNY", now=NOW)
        posted = ledger.append_many(
            conn,
            [
                ledger.Posting(principal, "topup", 100, "in", None, {}),
                ledger.Posting(bonus, "bonus", 10, "in", None, {}),
                ledger.Posting(principal, "pay", -30, "out", "ord_1", {}),
            ],
            actor="test",
            now=NOW,
        )
    assert [(p.account_id, p.amount, p.balance_after) for p in posted] == [
        (principal.id, 100, 100),
        (bonus.id, 10, 10),
        (principal.id, -30, 70),
    ]
    assert len({p.entry_id for p in posted}) == 3
    assert (principal.balance, bonus.balance) == (70, 10)
    with migrated_engine.begin() as conn:
        principal = ledger.open_account(conn, membership, "wallet", currency="CNY", now=NOW)
        bonus = ledger.open_account(conn, membership, "wallet_bonus", currency="CNY", now=NOW)
        with pytest.raises(Conflict) as caught:
            ledger.append_many(
                conn,
                [
                    ledger.Posting(principal, "pay", -70, "out-2", None, {}),
                    ledger.Posting(bonus, "pay", -11, "out-2", None, {}),
                ],
                actor="test",
                now=NOW,
            )
        assert caught.value.code == "wallet.insufficient"
        assert (principal.balance, bonus.balance) == (70, 10)
    with migrated_engine.connect() as conn:
        assert ledger.balance(conn, membership, "wallet") == 70
        assert entry_count(conn, membership) == 3


def test_open_account_racing_itself_opens_one_account(
    migrated_engine: Engine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level races need PostgreSQL; SQLite serialises every writer")
    membership = new_membership(migrated_engine)
    start = threading.Barrier(8)
    opened: list[int] = []

    def one() -> None:
        start.wait()
        with migrated_engine.begin() as conn:
            account = ledger.open_account(conn, membership, "wallet", currency="CNY", now=NOW)
            ledger.append(
                conn,
                account,
                kind="topup",
                amount=1,
                natural_key=f"race-{threading.get_ident()}",
                order_id=None,
                detail={},
                actor="test",
                now=NOW,
            )
            opened.append(account.id)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 8 and len(set(opened)) == 1
    with migrated_engine.connect() as conn:
        assert ledger.balance(conn, membership, "wallet") == 8
        entries = ledger.history(conn, membership, ["wallet"], limit=10, before_id=None)
    assert sorted(entry.balance_after for entry in entries) == list(range(1, 9))


def test_history_pages_newest_first(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    bonus_account = _account(migrated_engine, membership, "wallet_bonus")
    wallet_account = _account(migrated_engine, membership, "wallet")
    for number in range(5):
        _post(migrated_engine, bonus_account, 10, f"p{number}", kind="bonus")
    _post(migrated_engine, wallet_account, 999, "w", kind="topup")
    with migrated_engine.connect() as conn:
        page = ledger.history(conn, membership, ["wallet_bonus"], limit=3, before_id=None)
        rest = ledger.history(conn, membership, ["wallet_bonus"], limit=3, before_id=page[-1].id)
        both = ledger.history(
            conn, membership, ["wallet_bonus", "wallet"], limit=10, before_id=None
        )
    assert [entry.natural_key for entry in page] == ["p4", "p3", "p2"]
    assert [entry.natural_key for entry in rest] == ["p1", "p0"]
    assert [entry.balance_after for entry in page + rest] == [50, 40, 30, 20, 10]
    assert page[0].detail == {"why": "test"} and page[0].account_kind == "wallet_bonus"
    assert (both[0].account_kind, both[0].amount) == ("wallet", 999)
    assert len(both) == 6


def test_reconcile_is_clean_and_finds_each_kind_of_difference(migrated_engine: Engine) -> None:
    membership = new_membership(migrated_engine)
    with migrated_engine.begin() as conn:
        points.earn(
            conn,
            membership,
            100,
            expires_on=TODAY + dt.timedelta(days=30),
            natural_key="earn",
            order_id=None,
            actor="test",
            now=NOW,
        )
        points.spend(conn, membership, 40, natural_key="spend", reason="test", actor="t", now=NOW)
    good = new_coupon(migrated_engine, status="issued", events=["issued", "redeemed", "reversed"])
    with migrated_engine.connect() as conn:
        # Among others, a coupon whose reversal put it back to issued agrees with its ledger.
        assert reconcile(conn).differences == []
    assert good

    bad = new_coupon(migrated_engine, status="issued", events=["issued", "redeemed"])
    silent = new_coupon(migrated_engine, status="issued", events=[])
    account = _account(migrated_engine, membership, "points")
    with migrated_engine.begin() as conn:
        conn.execute(
            update(loyalty_accounts).where(loyalty_accounts.c.id == account).values(balance=61)
        )
        conn.execute(
            update(loyalty_entries)
            .where(loyalty_entries.c.natural_key == "earn", loyalty_entries.c.account_id == account)
            .values(balance_after=99)
        )
        conn.execute(
            update(points_lots).where(points_lots.c.account_id == account).values(remaining=59)
        )
    with migrated_engine.connect() as conn:
        differences = reconcile(conn).differences
    found = {(d.kind, d.expected, d.actual) for d in differences}
    subjects = {d.subject for d in differences}
    assert ("account_balance", 60, 61) in found
    assert ("points_lots", 59, 61) in found
    assert ("balance_chain", 100, 99) in found  # the earn itself
    assert ("balance_chain", 99 - 40, 60) in found  # the spend after it
    assert ("lot_remaining", 60, 59) in found
    assert ("coupon_state", "redeemed", "issued") in found
    assert ("coupon_state", "no event", "issued") in found
    assert {f"coupon {bad}", f"coupon {silent}"} <= subjects

    # Put it all right again: the module's database stays clean for the tests after this one.
    with migrated_engine.begin() as conn:
        conn.execute(
            update(loyalty_accounts).where(loyalty_accounts.c.id == account).values(balance=60)
        )
        conn.execute(
            update(loyalty_entries)
            .where(loyalty_entries.c.natural_key == "earn", loyalty_entries.c.account_id == account)
            .values(balance_after=100)
        )
        conn.execute(
            update(points_lots).where(points_lots.c.account_id == account).values(remaining=60)
        )
        conn.execute(update(coupons).where(coupons.c.id == bad).values(status="redeemed"))
        conn.execute(delete(coupons).where(coupons.c.id == silent))
    with migrated_engine.connect() as conn:
        assert reconcile(conn).differences == []
