"""The paid membership on both databases: buying, retrying, renewing in advance and after a lapse,
monthly vouchers issued once per month, and cancellation with a pro-rata refund to the wallet or
to the card it was paid with."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.loyalty import wallet
from newretail.loyalty.coupon_templates import ensure_demo_templates, set_template_status
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.loyalty.memberships import enrol, events_of, membership_of
from newretail.loyalty.paid import (
    buy_paid,
    cancel_paid,
    issue_monthly_vouchers,
    require_cancel_permission,
)
from newretail.loyalty.periods import PaidPeriod, get_period, month_of, periods_of
from newretail.oltp.tables import audit_log, coupons, paid_periods
from newretail.security import Principal, Role

BOUGHT = dt.datetime(2025, 6, 1, 3, 0, tzinfo=dt.UTC)
CHANNEL = Principal(user_id=11, role=Role.CHANNEL)


@pytest.fixture
def conn(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction rolled back after the test, so tests do not see each other."""
    with migrated_engine.begin() as setup:
        ensure_demo_templates(setup, now=BOUGHT)
        ensure_demo_schemes(setup, now=BOUGHT)
    with migrated_engine.connect() as conn, conn.begin() as transaction:
        yield conn
        transaction.rollback()


def person() -> str:
    return f"P{uuid.uuid4().hex[:12]}"


def buy(
    conn: Connection, who: str, *, at: dt.datetime = BOUGHT, key: str | None = None, **kw: str
) -> PaidPeriod:
    return buy_paid(
        conn,
        "paid_annual",
        who,
        payment_method=kw.pop("payment_method", "wechat_pay"),
        purchase_key=key or f"buy-{uuid.uuid4().hex}",
        actor="channel:app",
        now=at,
        **kw,
    )


def vouchers(conn: Connection, who: str) -> list[tuple[str, str]]:
    query = (
        select(coupons.c.template_id, coupons.c.issue_key)
        .where(coupons.c.person_id == who)
        .order_by(coupons.c.issue_key, coupons.c.template_id)
    )
    return [(t, k) for t, k in conn.execute(query)]


def month(period: PaidPeriod, n: int) -> list[tuple[str, str]]:
    return [
        ("paid_monthly_10_off", f"paid:{period.id}:m{n}:1"),
        ("paid_monthly_free_drink", f"paid:{period.id}:m{n}:1"),
        ("paid_monthly_10_off", f"paid:{period.id}:m{n}:2"),
    ]


def test_a_purchase_starts_a_year_and_issues_the_first_month_at_once(conn: Connection) -> None:
    who = person()
    period = buy(conn, who, key="order-1")
    assert (period.starts_on, period.ends_on) == (dt.date(2025, 6, 1), dt.date(2026, 5, 31))
    assert (period.price_minor, period.currency, period.status) == (19_900, "CNY", "active")
    assert (period.scheme_id, period.person_id, period.refund_minor) == ("paid_annual", who, None)
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None and membership.joined_channel == "app"
    assert membership.tier == "member"
    assert [(e.kind, e.natural_key) for e in events_of(conn, membership.id)] == [
        ("joined", "joined"),
        ("paid_started", f"paid:{period.id}"),
        ("paid_vouchers", f"vouchers:{period.id}:m1"),
    ]
    assert sorted(vouchers(conn, who)) == sorted(month(period, 1))
    # A retry of the same purchase is the same purchase.
    assert buy(conn, who, key="order-1", at=BOUGHT + dt.timedelta(minutes=1)) == period
    assert len(vouchers(conn, who)) == 3
    assert len(periods_of(conn, membership.id)) == 1
    with pytest.raises(Conflict) as caught:
        buy(conn, person(), key="order-1")
    assert caught.value.code == "loyalty.purchase_key_reused"


def test_vouchers_are_issued_once_per_month_of_the_period(conn: Connection) -> None:
    who = person()
    period = buy(conn, who)
    assert issue_monthly_vouchers(conn, as_of=dt.date(2025, 6, 1), actor="job", now=BOUGHT) == 0
    assert issue_monthly_vouchers(conn, as_of=dt.date(2025, 6, 30), actor="job", now=BOUGHT) == 0
    july = dt.datetime(2025, 7, 1, 1, tzinfo=dt.UTC)
    assert issue_monthly_vouchers(conn, as_of=dt.date(2025, 7, 1), actor="job", now=july) == 3
    assert issue_monthly_vouchers(conn, as_of=dt.date(2025, 7, 1), actor="job", now=july) == 0
    assert issue_monthly_vouchers(conn, as_of=dt.date(2025, 7, 19), actor="job", now=july) == 0
    assert sorted(vouchers(conn, who)) == sorted(month(period, 1) + month(period, 2))
    # Run daily for the rest of the year, then past its end: one batch a month, twelve in all.
    day, issued = dt.date(2025, 7, 2), 0
    while day <= dt.date(2026, 6, 30):
        now = dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC)
        issued += issue_monthly_vouchers(conn, as_of=day, actor="job", now=now)
        day += dt.timedelta(days=1)
    assert issued == 3 * 10
    assert len(vouchers(conn, who)) == 3 * 12
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    done = [e.detail for e in events_of(conn, membership.id) if e.kind == "paid_vouchers"]
    assert [d["month"] for d in done] == list(range(1, 13))
    assert {d["issued"] for d in done} == {3}
    assert {k.split(":")[2] for _, k in vouchers(conn, who)} == {f"m{n}" for n in range(1, 13)}


def test_month_boundaries_follow_the_start_day() -> None:
    def period(starts: dt.date) -> PaidPeriod:
        return PaidPeriod(
            1,
            1,
            "paid_annual",
            "P",
            starts,
            starts,
            1,
            "CNY",
            "card",
            "active",
            "k",
            BOUGHT,
            None,
            None,
        )

    jan31 = period(dt.date(2025, 1, 31))
    days = [dt.date(2025, 1, 31), dt.date(2025, 2, 27), dt.date(2025, 2, 28), dt.date(2025, 3, 30)]
    assert [month_of(jan31, d) for d in days] == [1, 1, 2, 2]
    assert month_of(jan31, dt.date(2025, 3, 31)) == 3
    assert month_of(jan31, dt.date(2026, 1, 30)) == 12
    june = period(dt.date(2025, 6, 15))
    assert [month_of(june, dt.date(2025, 7, d)) for d in (14, 15)] == [1, 2]


def test_a_renewal_while_active_starts_the_day_after_it_ends(conn: Connection) -> None:
    who = person()
    first = buy(conn, who)
    renewed = buy(conn, who, at=dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC))
    assert (renewed.starts_on, renewed.ends_on) == (dt.date(2026, 6, 1), dt.date(2027, 5, 31))
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    assert [e.kind for e in events_of(conn, membership.id)][-1] == "paid_renewed"
    # The renewal's first month comes when it begins, from the daily job.
    assert not [k for _, k in vouchers(conn, who) if k.startswith(f"paid:{renewed.id}:")]
    june = dt.datetime(2026, 6, 1, 1, tzinfo=dt.UTC)
    assert issue_monthly_vouchers(conn, as_of=june.date(), actor="job", now=june) == 3
    with pytest.raises(Conflict) as caught:
        buy(conn, who, at=dt.datetime(2026, 5, 21, tzinfo=dt.UTC))
    assert caught.value.code == "loyalty.paid_already_renewed"
    assert [p.id for p in periods_of(conn, membership.id)] == [first.id, renewed.id]


def test_after_a_lapse_a_purchase_starts_today(conn: Connection) -> None:
    who = person()
    buy(conn, who)
    later = dt.datetime(2026, 9, 10, 9, tzinfo=dt.UTC)
    again = buy(conn, who, at=later)
    assert (again.starts_on, again.ends_on) == (dt.date(2026, 9, 10), dt.date(2027, 9, 9))
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    assert [e.kind for e in events_of(conn, membership.id)] == [
        "joined",
        "paid_started",
        "paid_vouchers",
        "paid_started",
        "paid_vouchers",
    ]
    assert len(vouchers(conn, who)) == 6


def test_cancel_refunds_unused_whole_days_to_the_card(conn: Connection) -> None:
    who = person()
    period = buy(conn, who)
    day = dt.datetime(2025, 9, 10, 15, tzinfo=dt.UTC)
    cancelled = cancel_paid(conn, period.id, actor=CHANNEL, now=day)
    # 365 days bought; 2025-09-10 is used, 263 days from 09-11 to 2026-05-31 are not.
    assert cancelled.refund_minor == 19_900 * 263 // 365 == 14_338
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", day)
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    last = events_of(conn, membership.id)[-1]
    assert (last.kind, last.natural_key) == ("paid_cancelled", f"paid_cancel:{period.id}")
    assert last.detail == {
        "period_id": period.id,
        "unused_days": 263,
        "period_days": 365,
        "refund_minor": 14_338,
        "refund_to": "external",
    }
    audit = conn.execute(
        select(audit_log.c.action, audit_log.c.actor).where(audit_log.c.target_id == str(period.id))
    ).all()
    assert audit == [("loyalty.paid_cancelled", "user:11")]
    # Cancelling again changes nothing; no further vouchers; those issued stay.
    assert cancel_paid(conn, period.id, actor=CHANNEL, now=day + dt.timedelta(days=1)) == cancelled
    assert len(events_of(conn, membership.id)) == 4
    october = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    assert issue_monthly_vouchers(conn, as_of=october.date(), actor="job", now=october) == 0
    assert len(vouchers(conn, who)) == 3


@pytest.mark.parametrize(
    ("day", "refund"),
    [
        (dt.date(2025, 6, 1), 19_900 * 364 // 365),  # the day bought counts as used
        (dt.date(2026, 5, 30), 19_900 * 1 // 365),
        (dt.date(2026, 5, 31), 0),  # the last day: nothing unused
    ],
)
def test_pro_rata_edges(conn: Connection, day: dt.date, refund: int) -> None:
    period = buy(conn, person())
    at = dt.datetime.combine(day, dt.time(23, 59), tzinfo=dt.UTC)
    assert cancel_paid(conn, period.id, actor=CHANNEL, now=at).refund_minor == refund


def test_a_renewal_not_yet_begun_is_refunded_in_full(conn: Connection) -> None:
    who = person()
    buy(conn, who)
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    renewed = buy(conn, who, at=at)
    assert cancel_paid(conn, renewed.id, actor=CHANNEL, now=at).refund_minor == 19_900


def test_cancel_refuses_what_it_must(conn: Connection) -> None:
    period = buy(conn, person())
    with pytest.raises(Forbidden):
        cancel_paid(conn, period.id, actor=Principal(user_id=2, role=Role.MARKETER), now=BOUGHT)
    with pytest.raises(Conflict) as caught:
        cancel_paid(conn, period.id, actor=CHANNEL, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert caught.value.code == "loyalty.paid_ended"
    with pytest.raises(NotFound) as missing:
        cancel_paid(conn, 10**9, actor=CHANNEL, now=BOUGHT)
    assert missing.value.code == "loyalty.period_unknown"
    assert get_period(conn, period.id).status == "active"


def test_after_sales_staff_may_cancel_as_the_selling_channel_may(conn: Connection) -> None:
    period = buy(conn, person())
    agent = Principal(user_id=3, role=Role.SERVICE_AGENT)
    day = dt.datetime(2025, 9, 10, 15, tzinfo=dt.UTC)
    assert cancel_paid(conn, period.id, actor=agent, now=day).refund_minor == 14_338
    with pytest.raises(Forbidden) as refused:
        require_cancel_permission(Principal(user_id=4, role=Role.ANALYST))
    assert refused.value.code == "auth.permission_denied"


def test_stored_value_pays_from_the_free_schemes_wallet_and_gets_the_refund(
    conn: Connection,
) -> None:
    who = person()
    club = enrol(conn, "coffee_club", who, channel="app", actor="app", now=BOUGHT)
    wallet.top_up(
        conn,
        club.id,
        30_000,
        bonus_minor=4_000,
        currency="CNY",
        natural_key="top-1",
        payment_method="wechat_pay",
        actor="app",
        now=BOUGHT,
    )
    period = buy(conn, who, payment_method="stored_value")
    after_pay = wallet.balances(conn, club.id)
    # 199.00 drawn in proportion 300 : 40 from principal and bonus.
    assert (after_pay.principal_minor, after_pay.bonus_minor) == (30_000 - 17_559, 4_000 - 2_341)
    assert period.payment_method == "stored_value"
    day = dt.datetime(2025, 12, 1, 8, tzinfo=dt.UTC)
    cancelled = cancel_paid(conn, period.id, actor=CHANNEL, now=day)
    # 2025-12-02 to 2026-05-31 unused: 181 days.
    assert cancelled.refund_minor == 19_900 * 181 // 365 == 9_868
    refunded = wallet.balances(conn, club.id)
    assert refunded.principal_minor + refunded.bonus_minor == 34_000 - 19_900 + 9_868
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    assert events_of(conn, membership.id)[-1].detail["refund_to"] == "wallet"


def test_bad_purchases_are_refused(conn: Connection) -> None:
    who = person()
    with pytest.raises(InvalidInput) as caught:
        buy_paid(
            conn,
            "coffee_club",
            who,
            payment_method="card",
            purchase_key="k1",
            actor="a",
            now=BOUGHT,
        )
    assert caught.value.code == "loyalty.scheme_not_paid"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"payment_method": "platform"}, "loyalty.bad_payment_method"),
        ({"key": "x" * 121}, "loyalty.bad_purchase_key"),
        ({"channel": "pos"}, "loyalty.channel_not_covered"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidInput) as bad:
            buy(conn, who, **kwargs)
        assert bad.value.code == code
    # No wallet to pay from (not a coffee_club member), then too little in it.
    with pytest.raises(Conflict) as no_wallet:
        buy(conn, who, payment_method="stored_value")
    assert no_wallet.value.code == "loyalty.no_wallet"
    club = enrol(conn, "coffee_club", who, channel="app", actor="app", now=BOUGHT)
    wallet.top_up(
        conn,
        club.id,
        10_000,
        bonus_minor=1_000,
        currency="CNY",
        natural_key="top-1",
        payment_method="alipay",
        actor="app",
        now=BOUGHT,
    )
    with pytest.raises(Conflict) as short, conn.begin_nested():
        buy(conn, who, payment_method="stored_value")
    assert short.value.code == "wallet.insufficient"
    assert membership_of(conn, "paid_annual", who) is None  # and so no period
    with pytest.raises(NotFound):
        buy_paid(
            conn,
            "no_scheme",
            who,
            payment_method="card",
            purchase_key="k2",
            actor="a",
            now=BOUGHT,
        )


def test_a_paused_voucher_template_is_skipped_until_it_resumes(conn: Connection) -> None:
    admin = Principal.cli()
    set_template_status(conn, "paid_monthly_10_off", "paused", actor=admin, now=BOUGHT)
    who = person()
    period = buy(conn, who)
    assert vouchers(conn, who) == [("paid_monthly_free_drink", f"paid:{period.id}:m1:1")]
    assert issue_monthly_vouchers(conn, as_of=BOUGHT.date(), actor="job", now=BOUGHT) == 0
    set_template_status(conn, "paid_monthly_10_off", "active", actor=admin, now=BOUGHT)
    later = BOUGHT + dt.timedelta(days=3)
    assert issue_monthly_vouchers(conn, as_of=later.date(), actor="job", now=later) == 2
    assert sorted(vouchers(conn, who)) == sorted(month(period, 1))
    membership = membership_of(conn, "paid_annual", who)
    assert membership is not None
    [done] = [e for e in events_of(conn, membership.id) if e.kind == "paid_vouchers"]
    assert done.detail == {"period_id": period.id, "month": 1, "issued": 2}


def test_racing_retries_of_one_purchase_buy_one_period(migrated_engine: Engine) -> None:
    """Eight threads, each its own connection, retry one purchase at once: one period, one payment."""
    with migrated_engine.begin() as setup:
        ensure_demo_templates(setup, now=BOUGHT)
        ensure_demo_schemes(setup, now=BOUGHT)
    who = person()
    barrier = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            barrier.wait()
            with migrated_engine.begin() as conn:
                results.append(buy(conn, who, key=f"race-{who}").id)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    with migrated_engine.connect() as conn:
        assert len(vouchers(conn, who)) == 3
        count = (
            select(func.count()).select_from(paid_periods).where(paid_periods.c.id == results[0])
        )
        assert conn.execute(count).scalar_one() == 1
        membership = membership_of(conn, "paid_annual", who)
        assert membership is not None and len(periods_of(conn, membership.id)) == 1
