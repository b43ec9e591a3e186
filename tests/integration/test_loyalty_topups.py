"""Wallet top-ups under the scheme's rules on both databases: the bonus of the step reached, the
balance cap (refused with nothing written, retries still replayed), schemes without a wallet,
payment methods, and two first top-ups racing to the cap."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import get_args

import pytest
from sqlalchemy import Connection, Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import entry_count

from newretail.api.loyalty_models import TopUpPayment
from newretail.errors import Conflict, InvalidInput, NewRetailError, NotFound
from newretail.loyalty import wallet
from newretail.loyalty.demo_schemes import DEMO_SCHEMES, ensure_demo_schemes
from newretail.loyalty.memberships import enrol
from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import create_scheme
from newretail.loyalty.topups import PAYMENT_METHODS, TopUpResult, top_up_wallet
from newretail.oltp.tables import loyalty_accounts
from newretail.security import Principal

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
CAP = 500_000  # coffee_club: bonus 1,000 from 10,000, 4,000 from 30,000, 8,000 from 50,000


@pytest.fixture(scope="module")
def engine(migrated_engine: Engine) -> Engine:
    with migrated_engine.begin() as conn:
        ensure_demo_schemes(conn, now=NOW)
    return migrated_engine


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction rolled back after the test."""
    with engine.connect() as conn, conn.begin() as transaction:
        yield conn
        transaction.rollback()


def _member(conn: Connection, scheme_id: str = "coffee_club", channel: str = "app") -> int:
    person = f"P{uuid.uuid4().hex[:12]}"
    return enrol(conn, scheme_id, person, channel=channel, actor="test", now=NOW).id


def _top_up(
    conn: Connection, member: int, amount: int, key: str, method: str = "alipay"
) -> TopUpResult:
    return top_up_wallet(
        conn, member, amount, payment_method=method, natural_key=key, actor="test", now=NOW
    )


def _held(conn: Connection, member: int) -> tuple[int, int]:
    held = wallet.balances(conn, member)
    return held.principal_minor, held.bonus_minor


def test_a_top_up_gets_the_bonus_of_the_step_it_reaches_once(conn: Connection) -> None:
    member = _member(conn)
    assert _top_up(conn, member, 30_000, "t1") == TopUpResult(member, 30_000, 4_000, "CNY", False)
    assert _top_up(conn, member, 30_000, "t1").replayed
    assert _top_up(conn, member, 9_999, "t2", "cash").bonus_minor == 0
    assert _held(conn, member) == (39_999, 4_000)
    with pytest.raises(Conflict) as reused:
        _top_up(conn, member, 10_000, "t1")
    assert reused.value.code == "ledger.key_reused"


def test_the_cap_refuses_a_top_up_and_writes_nothing(conn: Connection) -> None:
    member = _member(conn)
    with pytest.raises(Conflict) as first:  # an empty wallet: not even its accounts are opened
        _top_up(conn, member, CAP, "too-much")
    assert (first.value.code, first.value.field) == ("wallet.over_limit", "amount_minor")
    opened = select(func.count()).where(loyalty_accounts.c.membership_id == member)
    assert conn.scalar(opened) == 0

    _top_up(conn, member, 400_000, "t1")  # and 8,000 of bonus: 408,000 held
    entries = entry_count(conn, member)
    with pytest.raises(Conflict) as over:
        _top_up(conn, member, 84_001, "t2")  # 84,001 + 8,000 would make 500,001
    assert over.value.code == "wallet.over_limit"
    assert (entry_count(conn, member), _held(conn, member)) == (entries, (400_000, 8_000))
    assert _top_up(conn, member, 84_000, "t3").bonus_minor == 8_000  # to the cap exactly
    assert sum(_held(conn, member)) == CAP
    assert _top_up(conn, member, 400_000, "t1").replayed  # a retry at the cap is no new top-up
    with pytest.raises(Conflict):
        _top_up(conn, member, 1, "t4")


def test_refusals_name_the_rule_and_the_field(conn: Connection) -> None:
    member = _member(conn)
    for method in ("stored_value", "platform", ""):
        with pytest.raises(InvalidInput) as bad:
            _top_up(conn, member, 10_000, f"m-{method}", method)
        assert (bad.value.code, bad.value.field) == ("wallet.bad_payment_method", "payment_method")
    with pytest.raises(InvalidInput) as zero:
        _top_up(conn, member, 0, "zero")
    assert (zero.value.code, zero.value.field) == ("wallet.not_positive", "amount_minor")
    with pytest.raises(NotFound) as unknown:
        _top_up(conn, 10**9, 10_000, "nobody")
    assert (unknown.value.code, unknown.value.field) == ("membership.unknown", "membership_id")
    assert entry_count(conn, member) == 0

    data = DEMO_SCHEMES[0].model_dump(mode="json")
    data.update(id=f"tea_{uuid.uuid4().hex[:8]}", name="茶会员", name_en="Tea Club")
    data["rules"].update(channels=["tmall"], wallet=None)
    create_scheme(conn, SchemeDraft.model_validate(data), actor=Principal.cli(), now=NOW)
    walletless = _member(conn, data["id"], "tmall")
    with pytest.raises(Conflict) as none:
        _top_up(conn, walletless, 10_000, "w")
    assert (none.value.code, none.value.field) == ("loyalty.no_wallet", "membership_id")


def test_the_api_offers_the_payment_methods_the_domain_takes() -> None:
    assert set(get_args(TopUpPayment)) == set(PAYMENT_METHODS)


def test_two_first_top_ups_racing_to_the_cap_let_one_through(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs row locks")
    with engine.begin() as setup:
        member = _member(setup)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def top_up(key: str) -> None:
        barrier.wait()
        try:
            with engine.begin() as conn:
                _top_up(conn, member, 300_000, key)  # and 8,000: two would make 616,000
            outcomes.append("ok")
        except NewRetailError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=top_up, args=(f"race-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "wallet.over_limit"]
    with engine.connect() as conn:
        assert _held(conn, member) == (300_000, 8_000)
