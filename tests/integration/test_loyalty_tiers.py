"""The daily tier evaluation on both databases, over order rows as checkout writes them: members move
up and down with their rolling-year spend (net of refunds) or points, once per day, and a re-run of
the same day changes nothing."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.loyalty import points
from newretail.loyalty.demo_schemes import DEMO_SCHEMES, ensure_demo_schemes
from newretail.loyalty.memberships import Membership, enrol, events_of, get_membership
from newretail.loyalty.rules import SchemeDraft
from newretail.loyalty.schemes import create_scheme, update_scheme
from newretail.loyalty.tiers import evaluate_tiers
from newretail.oltp.tables import membership_events, memberships, orders
from newretail.security import Principal

AS_OF = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 18, 5, tzinfo=dt.UTC)  # 02:05 the next morning in Shanghai
MIDNIGHT = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC)
# A coffee chain's basket: one to three drinks and maybe a pastry, in fen.
MENU = [1_500, 2_000, 2_300, 2_500, 2_600, 1_200, 1_500, 1_800]


@pytest.fixture
def conn(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction rolled back after the test: each test sees only its members."""
    with migrated_engine.begin() as setup:
        ensure_demo_schemes(setup, now=NOW)
    with migrated_engine.connect() as conn, conn.begin() as transaction:
        yield conn
        transaction.rollback()


def member(conn: Connection, scheme_id: str = "coffee_club") -> Membership:
    person = f"P{uuid.uuid4().hex[:12]}"
    joined = NOW - dt.timedelta(days=800)
    return enrol(conn, scheme_id, person, channel="app", actor="test", now=joined)


def order(
    conn: Connection,
    membership: Membership,
    placed_at: dt.datetime,
    paid_minor: int,
    *,
    refunded_minor: int = 0,
) -> None:
    order_id = f"O{uuid.uuid4().hex[:20]}"
    conn.execute(
        insert(orders).values(
            id=order_id,
            channel="app",
            client_order_id=order_id,
            store_id="S001",
            person_id=membership.person_id,
            membership_id=membership.id,
            status="placed" if refunded_minor == 0 else "partially_refunded",
            fulfilment="pickup",
            currency="CNY",
            gross_minor=paid_minor,
            discount_minor=0,
            paid_minor=paid_minor,
            wallet_minor=0,
            payment_method="wechat_pay",
            points_earned=paid_minor // 100,
            refunded_minor=refunded_minor,
            placed_at=placed_at,
            business_date=(placed_at + dt.timedelta(hours=8)).date(),
        )
    )


def habit(
    conn: Connection, membership: Membership, *, orders_: int, days_back: int, seed: int
) -> int:
    """``orders_`` realistic orders spread over the ``days_back`` days before AS_OF; their total."""
    rng = random.Random(seed)
    total = 0
    for _ in range(orders_):
        basket = sum(rng.choice(MENU) for _ in range(rng.randint(1, 3)))
        at = MIDNIGHT - dt.timedelta(days=rng.randint(1, days_back), hours=rng.randint(0, 23))
        order(conn, membership, at, basket)
        total += basket
    return total


def expected_tier(spend: int) -> str:
    ladder = DEMO_SCHEMES[0].rules.tiers
    return [t.id for t in ladder if t.threshold <= spend][-1]


def test_members_move_up_to_the_tier_their_year_of_spend_reaches(conn: Connection) -> None:
    light, regular, heavy, devoted = (member(conn) for _ in range(4))
    spends = {
        light.id: habit(conn, light, orders_=6, days_back=300, seed=1),
        regular.id: habit(conn, regular, orders_=20, days_back=360, seed=2),
        heavy.id: habit(conn, heavy, orders_=60, days_back=364, seed=3),
        devoted.id: habit(conn, devoted, orders_=150, days_back=364, seed=4),
    }
    assert [expected_tier(s) for s in spends.values()] == ["green", "silver", "gold", "black"]
    run = evaluate_tiers(conn, as_of=AS_OF, actor="job:tiers", now=NOW)
    assert (run.evaluated, run.up, run.down) == (4, 3, 0)
    for m in (light, regular, heavy, devoted):
        after = get_membership(conn, m.id)
        assert after.tier == expected_tier(spends[m.id])
        assert after.tier_since == (NOW if after.tier != "green" else m.tier_since)
    [_joined, up] = events_of(conn, heavy.id)
    assert (up.kind, up.natural_key, up.actor) == ("tier_up", "tier:2025-06-01", "job:tiers")
    assert up.detail == {
        "from": "green",
        "to": "gold",
        "metric": "spend",
        "value": spends[heavy.id],
        "window_days": 365,
    }


def test_a_rerun_of_the_same_day_changes_nothing(conn: Connection) -> None:
    m = member(conn)
    habit(conn, m, orders_=120, days_back=200, seed=5)
    first = evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW)
    events = conn.execute(select(func.count()).select_from(membership_events)).scalar_one()
    again = evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW + dt.timedelta(hours=1))
    assert first.up == 1 and (again.up, again.down) == (0, 0)
    assert conn.execute(select(func.count()).select_from(membership_events)).scalar_one() == events
    assert get_membership(conn, m.id).tier_since == NOW
    # Data changing later the same day (a backfilled refund) still moves nobody twice that day.
    conn.execute(update(orders).where(orders.c.membership_id == m.id).values(refunded_minor=0))
    conn.execute(update(orders).where(orders.c.membership_id == m.id).values(paid_minor=100))
    third = evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW + dt.timedelta(hours=2))
    assert (third.up, third.down) == (0, 0)
    assert get_membership(conn, m.id).tier != "green"
    # The next day it moves.
    fourth = evaluate_tiers(conn, as_of=AS_OF + dt.timedelta(days=1), actor="job", now=NOW)
    assert fourth.down == 1 and get_membership(conn, m.id).tier == "green"


def test_members_move_down_as_old_spend_leaves_the_window(conn: Connection) -> None:
    m = member(conn)
    # CNY 1,600 spent over two months last summer: gold then.
    for i in range(64):
        order(conn, m, MIDNIGHT - dt.timedelta(days=340 - i), 2_500)
    assert evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW).up == 1
    assert get_membership(conn, m.id).tier == "gold"
    # Thirty days on, 5 of those orders are older than the window: CNY 1,475 is silver.
    later = AS_OF + dt.timedelta(days=30)
    run = evaluate_tiers(conn, as_of=later, actor="job", now=NOW + dt.timedelta(days=30))
    assert (run.up, run.down) == (0, 1)
    assert get_membership(conn, m.id).tier == "silver"
    # Seventy days on, 19 orders (CNY 475) are left: green.
    later = AS_OF + dt.timedelta(days=70)
    assert evaluate_tiers(conn, as_of=later, actor="job", now=NOW + dt.timedelta(days=70)).down == 1
    assert get_membership(conn, m.id).tier == "green"
    kinds = [(e.kind, e.detail["from"], e.detail["to"]) for e in events_of(conn, m.id)[1:]]
    assert kinds == [
        ("tier_up", "green", "gold"),
        ("tier_down", "gold", "silver"),
        ("tier_down", "silver", "green"),
    ]


def test_refunds_count_against_spend_and_the_window_edges_hold(conn: Connection) -> None:
    refunded, edges = member(conn), member(conn)
    # CNY 650 paid, CNY 200 of it refunded: 450 net is below silver's 500.
    for i in range(15):
        order(conn, refunded, MIDNIGHT - dt.timedelta(days=10 + i), 3_000)
    order(conn, refunded, MIDNIGHT - dt.timedelta(days=5), 15_000, refunded_minor=15_000)
    order(conn, refunded, MIDNIGHT - dt.timedelta(days=4), 5_000, refunded_minor=0)
    conn.execute(
        update(orders)
        .where(orders.c.membership_id == refunded.id, orders.c.paid_minor == 5_000)
        .values(refunded_minor=5_000, status="refunded")
    )
    # CNY 499.99 inside the window; CNY 100 on the day evaluated and just before the window.
    start = MIDNIGHT - dt.timedelta(days=365)
    order(conn, edges, start, 49_999)
    order(conn, edges, start - dt.timedelta(microseconds=1), 10_000)
    order(conn, edges, MIDNIGHT, 10_000)
    run = evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW)
    assert (run.up, run.down) == (0, 0)
    assert get_membership(conn, refunded.id).tier == "green"
    assert get_membership(conn, edges.id).tier == "green"
    order(conn, edges, MIDNIGHT - dt.timedelta(microseconds=1), 1)
    assert evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW).up == 1
    assert get_membership(conn, edges.id).tier == "silver"


def test_points_metric_counts_points_earned_less_reversed(conn: Connection) -> None:
    data = DEMO_SCHEMES[0].model_dump(mode="json")
    data.update(id="pts_club", currency="SGD", name_en="Points club")
    data["rules"].update(channels=["tmall"], tier_metric="points", tier_window_days=90)
    for tier, threshold in zip(data["rules"]["tiers"], (0, 500, 1_500, 4_000), strict=True):
        tier["threshold"] = threshold
    draft = SchemeDraft.model_validate(data)
    create_scheme(conn, draft, actor=Principal.cli(), now=NOW)
    m = enrol(conn, "pts_club", f"P{uuid.uuid4().hex[:12]}", channel="tmall", actor="t", now=NOW)

    def earn(key: str, amount: int, days_ago: int) -> None:
        at = MIDNIGHT - dt.timedelta(days=days_ago)
        points.earn(
            conn,
            m.id,
            amount,
            expires_on=AS_OF + dt.timedelta(days=400),
            natural_key=key,
            order_id=None,
            actor="t",
            now=at,
        )

    earn("e1", 900, 10)
    earn("e2", 800, 20)
    earn("old", 5_000, 91)  # outside the 90-day window
    points.spend(conn, m.id, 700, natural_key="s1", reason="drink", actor="t", now=MIDNIGHT)
    assert evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW).up == 1
    assert get_membership(conn, m.id).tier == "gold"  # 1,700 earned; spending does not count
    points.reverse_earn(
        conn,
        m.id,
        earn_key="e1",
        points=300,
        natural_key="r1",
        actor="t",
        now=MIDNIGHT - dt.timedelta(days=2),
    )
    tomorrow = AS_OF + dt.timedelta(days=1)
    assert evaluate_tiers(conn, as_of=tomorrow, actor="job", now=NOW).down == 1
    assert get_membership(conn, m.id).tier == "silver"  # 1,400


def test_closed_members_and_inactive_schemes_are_left_alone(conn: Connection) -> None:
    closed, paused = member(conn), member(conn, "coffee_club_sg")
    for m in (closed, paused):
        habit(conn, m, orders_=300, days_back=300, seed=9)
    conn.execute(update(memberships).where(memberships.c.id == closed.id).values(status="closed"))
    sg = DEMO_SCHEMES[1].model_copy(update={"active": False})
    update_scheme(conn, "coffee_club_sg", sg, actor=Principal.cli(), now=NOW)
    run = evaluate_tiers(conn, as_of=AS_OF, actor="job", now=NOW)
    assert (run.evaluated, run.up, run.down) == (0, 0, 0)
    assert get_membership(conn, closed.id).tier == "green"
    assert get_membership(conn, paused.id).tier == "green"
