"""The stored-value wallet on both databases: top-ups with bonus, payments drawn in proportion,
refunds filled back as the payment drew, and every refusal writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, entry_count, new_membership

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty import wallet
from newretail.loyalty.reconcile import reconcile
from newretail.loyalty.wallet import WalletBalance, WalletMove


def _top_up(
    engine: Engine, member: int, amount: int, bonus: int, key: str, currency: str = "CNY"
) -> WalletMove:
    with engine.begin() as conn:
        return wallet.top_up(
            conn,
            member,
            amount,
            bonus_minor=bonus,
            currency=currency,
            natural_key=key,
            payment_method="wechat_pay",
            actor="test",
            now=NOW,
        )


def _pay(engine: Engine, member: int, amount: int, key: str) -> WalletMove:
    with engine.begin() as conn:
        return wallet.pay(
            conn, member, amount, natural_key=key, order_id=f"o-{key}", actor="test", now=NOW
        )


def _refund(engine: Engine, member: int, amount: int, pay_key: str, key: str) -> WalletMove:
    with engine.begin() as conn:
        return wallet.refund(
            conn,
            member,
            amount,
            pay_key=pay_key,
            natural_key=key,
            order_id=f"o-{pay_key}",
            actor="test",
            now=NOW,
        )


def _balances(engine: Engine, member: int) -> tuple[int, int]:
    with engine.connect() as conn:
        held = wallet.balances(conn, member)
    return held.principal_minor, held.bonus_minor


def test_top_up_credits_principal_and_bonus_once(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    with migrated_engine.connect() as conn:
        assert wallet.balances(conn, member) == WalletBalance(0, 0, "CNY")
    assert _top_up(migrated_engine, member, 30000, 3000, "t1") == WalletMove(30000, 3000, False)
    assert _top_up(migrated_engine, member, 30000, 3000, "t1") == WalletMove(30000, 3000, True)
    assert _top_up(migrated_engine, member, 5000, 0, "t2") == WalletMove(5000, 0, False)
    assert _balances(migrated_engine, member) == (35000, 3000)
    with pytest.raises(Conflict) as caught:
        _top_up(migrated_engine, member, 30000, 0, "t1")
    assert caught.value.code == "ledger.key_reused"
    with pytest.raises(InvalidInput) as wrong:
        _top_up(migrated_engine, member, 100, 0, "t3", currency="USD")
    assert (wrong.value.code, wrong.value.field) == ("wallet.currency_mismatch", "currency")
    with pytest.raises(InvalidInput):
        _top_up(migrated_engine, member, 0, 10, "t4")
    with pytest.raises(InvalidInput):
        _top_up(migrated_engine, member, 10, -1, "t5")
    with migrated_engine.connect() as conn:
        assert entry_count(conn, member) == 3


def test_pay_draws_principal_and_bonus_in_proportion(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _top_up(migrated_engine, member, 300, 100, "t")
    assert _pay(migrated_engine, member, 100, "p1") == WalletMove(75, 25, False)
    assert _pay(migrated_engine, member, 100, "p1") == WalletMove(75, 25, True)
    assert _pay(migrated_engine, member, 7, "p2") == WalletMove(6, 1, False)  # rounding: principal
    assert _balances(migrated_engine, member) == (219, 74)
    with pytest.raises(Conflict) as caught:
        _pay(migrated_engine, member, 294, "p3")
    assert (caught.value.code, caught.value.field) == ("wallet.insufficient", "wallet")
    with pytest.raises(Conflict) as reused:
        _pay(migrated_engine, member, 99, "p1")
    assert reused.value.code == "ledger.key_reused"
    assert _pay(migrated_engine, member, 293, "p4") == WalletMove(219, 74, False)
    assert _balances(migrated_engine, member) == (0, 0)
    with migrated_engine.connect() as conn:
        assert entry_count(conn, member) == 2 + 2 + 2 + 2
        assert reconcile(conn).differences == []


def test_pay_from_no_wallet_is_insufficient(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    with pytest.raises(Conflict) as caught:
        _pay(migrated_engine, member, 1, "p")
    assert caught.value.code == "wallet.insufficient"
    with pytest.raises(InvalidInput):
        _pay(migrated_engine, member, -5, "p")


def test_refunds_fill_back_as_the_payment_drew_and_never_exceed_it(
    migrated_engine: Engine,
) -> None:
    member = new_membership(migrated_engine)
    _top_up(migrated_engine, member, 200, 100, "t")
    assert _pay(migrated_engine, member, 90, "p") == WalletMove(60, 30, False)
    _top_up(migrated_engine, member, 1000, 0, "t2")  # the mix changes; refunds follow the payment
    assert _refund(migrated_engine, member, 45, "p", "r1") == WalletMove(30, 15, False)
    assert _refund(migrated_engine, member, 45, "p", "r1") == WalletMove(30, 15, True)
    assert _refund(migrated_engine, member, 7, "p", "r2") == WalletMove(5, 2, False)
    with pytest.raises(InvalidInput) as caught:
        _refund(migrated_engine, member, 39, "p", "r3")
    assert (caught.value.code, caught.value.field) == (
        "wallet.refund_exceeds_payment",
        "amount_minor",
    )
    assert _refund(migrated_engine, member, 38, "p", "r3") == WalletMove(25, 13, False)
    assert _balances(migrated_engine, member) == (1200, 100)
    with pytest.raises(InvalidInput):
        _refund(migrated_engine, member, 1, "p", "r4")
    with pytest.raises(NotFound) as unknown:
        _refund(migrated_engine, member, 1, "no-such-payment", "r5")
    assert (unknown.value.code, unknown.value.field) == ("wallet.payment_unknown", "pay_key")
    with pytest.raises(Conflict):
        _refund(migrated_engine, member, 1, "p", "t2")  # a top-up's key is not a refund's
    with migrated_engine.connect() as conn:
        assert reconcile(conn).differences == []


def test_a_payment_from_principal_alone_refunds_to_principal(migrated_engine: Engine) -> None:
    member = new_membership(migrated_engine)
    _top_up(migrated_engine, member, 500, 0, "t")
    assert _pay(migrated_engine, member, 120, "p") == WalletMove(120, 0, False)
    assert _refund(migrated_engine, member, 120, "p", "r") == WalletMove(120, 0, False)
    assert _balances(migrated_engine, member) == (500, 0)
