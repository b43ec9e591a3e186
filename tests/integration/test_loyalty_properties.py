"""Random sequences of points and wallet operations (earn, spend, expire, claw back, reverse, adjust,
top up, pay, refund, and retries of any of them) on both databases: after every step the wallet is
never negative and matches a simple model, a points debt means empty lots, and at the end every
balance equals the sum of its entries and reconciliation finds no difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.loyalty_setup import NOW, new_membership

from newretail.errors import NewRetailError
from newretail.loyalty import ledger, points, wallet
from newretail.loyalty.reconcile import reconcile
from newretail.oltp.tables import loyalty_accounts, points_lots

Step = tuple[str, int, int]
STEPS = st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 40), st.just(0)),
    st.tuples(st.just("earn"), st.integers(1, 300), st.integers(-3, 90)),
    st.tuples(st.just("spend"), st.integers(1, 400), st.just(0)),
    st.tuples(st.just("expire"), st.integers(0, 10), st.just(0)),
    st.tuples(st.just("reverse_earn"), st.integers(0, 20), st.integers(1, 300)),
    st.tuples(st.just("reverse_spend"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("adjust"), st.integers(-200, 200).filter(bool), st.just(0)),
    st.tuples(st.just("top_up"), st.integers(1, 1000), st.integers(0, 200)),
    st.tuples(st.just("pay"), st.integers(1, 1500), st.just(0)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 1000)),
    st.tuples(st.just("retry"), st.integers(0, 40), st.just(0)),
)
# The refusals a random sequence may meet; anything else fails the test.
EXPECTED_REFUSALS = {
    "points.insufficient",
    "points.reversal_exceeds_earn",
    "wallet.insufficient",
    "wallet.refund_exceeds_payment",
}


@dataclass
class Run:
    """One membership's sequence: what ran (to retry it) and the wallet the model expects."""

    member: int
    now: dt.datetime = NOW
    wallet_total: int = 0
    paid: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)
    earns: list[str] = field(default_factory=list)
    spends: list[str] = field(default_factory=list)
    done: list[Callable[[Connection], object]] = field(default_factory=list)
    keys: int = 0

    def key(self, kind: str) -> str:
        self.keys += 1
        return f"{kind}:{self.keys}"


@dataclass
class Op:
    """A step's call, its keys fixed so that a retry repeats it exactly; what the wallet model
    expects of it (None: success, a code: that refusal, "": points, not modelled); and the model's
    change when it succeeds."""

    call: Callable[[Connection], object]
    expect: str | None = ""
    apply: Callable[[], None] = lambda: None


def _operation(run: Run, kind: str, a: int, b: int) -> Op:
    now, member = run.now, run.member
    if kind == "earn":
        key = run.key("earn")
        until = now.date() + dt.timedelta(days=b)
        return Op(
            lambda c: points.earn(
                c, member, a, expires_on=until, natural_key=key, order_id=None, actor="p", now=now
            ),
            apply=lambda: run.earns.append(key),
        )
    if kind == "spend":
        key = run.key("spend")
        return Op(
            lambda c: points.spend(c, member, a, natural_key=key, reason="r", actor="p", now=now),
            apply=lambda: run.spends.append(key),
        )
    if kind == "expire":
        as_of = now.date() + dt.timedelta(days=a)  # a run ahead of the clock now and then
        return Op(lambda c: points.expire_due(c, as_of=as_of, actor="p", now=now))
    if kind == "reverse_earn":
        earn_key, key = run.earns[a % len(run.earns)], run.key("claw")
        return Op(
            lambda c: points.reverse_earn(
                c, member, earn_key=earn_key, points=b, natural_key=key, actor="p", now=now
            )
        )
    if kind == "reverse_spend":
        spend_key, key = run.spends[a % len(run.spends)], run.key("restore")
        return Op(
            lambda c: points.reverse_spend(
                c, member, spend_key=spend_key, natural_key=key, actor="p", now=now
            )
        )
    if kind == "adjust":
        key = run.key("adjust")
        return Op(
            lambda c: points.adjust(c, member, a, natural_key=key, reason="r", actor="p", now=now)
        )
    if kind == "top_up":
        key = run.key("top_up")

        def top_up() -> None:
            run.wallet_total += a + b

        return Op(
            lambda c: wallet.top_up(
                c,
                member,
                a,
                bonus_minor=b,
                currency="CNY",
                natural_key=key,
                payment_method="cash",
                actor="p",
                now=now,
            ),
            None,
            top_up,
        )
    if kind == "pay":
        key = run.key("pay")

        def pay() -> None:
            run.wallet_total -= a
            run.paid[key] = a

        return Op(
            lambda c: wallet.pay(c, member, a, natural_key=key, order_id=None, actor="p", now=now),
            None if run.wallet_total >= a else "wallet.insufficient",
            pay,
        )
    assert kind == "refund"
    pay_key, key = sorted(run.paid)[a % len(run.paid)], run.key("refund")

    def refund() -> None:
        run.wallet_total += b
        run.refunded[pay_key] = run.refunded.get(pay_key, 0) + b

    left = run.paid[pay_key] - run.refunded.get(pay_key, 0)
    return Op(
        lambda c: wallet.refund(
            c, member, b, pay_key=pay_key, natural_key=key, order_id=None, actor="p", now=now
        ),
        None if b <= left else "wallet.refund_exceeds_payment",
        refund,
    )


def _balances(conn: Connection, member: int) -> tuple[int, int, int]:
    held = wallet.balances(conn, member)
    return held.principal_minor, held.bonus_minor, ledger.balance(conn, member, "points")


def _check_after_step(engine: Engine, run: Run) -> tuple[int, int, int]:
    with engine.connect() as conn:
        principal, bonus, points_balance = _balances(conn, run.member)
        in_lots = conn.scalar(
            select(func.coalesce(func.sum(points_lots.c.remaining), 0))
            .join(loyalty_accounts, loyalty_accounts.c.id == points_lots.c.account_id)
            .where(loyalty_accounts.c.membership_id == run.member)
        )
    assert principal >= 0 and bonus >= 0
    assert principal + bonus == run.wallet_total
    if points_balance < 0:  # a claw-back's debt: every lot has been emptied towards it
        assert in_lots == 0
    return principal, bonus, points_balance


def _step(engine: Engine, run: Run, step: Step) -> None:
    kind, a, b = step
    if kind == "advance":
        run.now += dt.timedelta(days=a)
        return
    if kind == "retry":
        if not run.done:
            return
        with engine.connect() as conn:
            before = _balances(conn, run.member)
        with engine.begin() as conn:
            run.done[a % len(run.done)](conn)
        assert _check_after_step(engine, run) == before  # a retry changes nothing
        return
    if (kind == "reverse_earn" and not run.earns) or (kind == "reverse_spend" and not run.spends):
        return
    if kind == "refund" and not run.paid:
        return
    op = _operation(run, kind, a, b)
    try:
        with engine.begin() as conn:
            op.call(conn)
    except NewRetailError as error:
        assert error.code in EXPECTED_REFUSALS, error
        assert op.expect in {"", error.code}, (step, error.code)
    else:
        assert op.expect in {"", None}, (step, "succeeded")
        op.apply()
        run.done.append(op.call)
    _check_after_step(engine, run)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=30))
def test_random_operations_keep_every_balance_equal_to_its_ledger(
    migrated_engine: Engine, steps: list[Step]
) -> None:
    run = Run(member=new_membership(migrated_engine))
    for step in steps:
        _step(migrated_engine, run, step)
    with migrated_engine.connect() as conn:
        assert reconcile(conn).differences == []
