"""kill -9 of ``newretail serve`` mid-checkout, on SQLite and on PostgreSQL. Two hundred members pay
orders from their wallets, with a coupon on the first, and earn points, from several clients at once;
each order has its own Idempotency-Key and channel order id. After a restart every request is sent
again exactly as it was: each ends as one order, an acknowledged answer replays byte for byte, no
coupon is redeemed twice, no wallet is negative and the ledgers reconcile."""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, insert, select
from tests.e2e.test_api_serve import Server, prepared_home
from tests.integration.databases import database_url as database_url
from tests.integration.trade_setup import BEANS, CROISSANT, LATTE, seed_catalogue

from newretail.config import Settings
from newretail.loyalty import wallet
from newretail.loyalty.coupon_issue import issue
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.loyalty.memberships import enrol
from newretail.loyalty.reconcile import reconcile
from newretail.oltp import engine_from_settings
from newretail.oltp.tables import (
    coupon_events,
    coupons,
    identity_persons,
    loyalty_accounts,
    loyalty_entries,
    orders,
    trade_outbox,
)
from newretail.security import Principal, create_user, create_user_key

pytestmark = pytest.mark.slow

SCHEME = "coffee_club"  # the demo's free scheme in CNY: its wallet, green tier (no discount)
COUPON = "welcome_5_off"  # 5 off 20: every basket starts with a latte, so it always applies
MEMBERS = 200
ORDERS_EACH = 3
CLIENTS = 8
KILL_AFTER = 150  # acknowledged orders before the kill
TOP_UP = (100_000, 10_000)  # principal and bonus: more than three of the dearest baskets
ORDERS = "/api/v1/orders"


@dataclass
class Call:
    """One order as a channel's backend sends it, and what it was answered."""

    person_id: str
    key: str
    body: dict[str, Any]
    sent: bool = False  # in flight or answered before the kill
    acknowledged: bytes | None = None  # the 201's body before the kill
    answers: list[tuple[int, bytes, bool]] = field(default_factory=list)  # after the restart

    @property
    def coupon(self) -> str | None:
        chosen: list[str] = self.body["coupons"]
        return chosen[0] if chosen else None


@pytest.fixture
def home(database_url: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's home, its OLTP on the backend under test (set before any Server copies env)."""
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", database_url)
    return isolated_home


def test_kill_9_mid_checkout_loses_no_acknowledged_order_and_doubles_none(home: Path) -> None:
    token, calls = seed(home)
    auth = {"Authorization": f"Bearer {token}"}

    server = Server(home).start()
    try:
        in_flight = fire_until_killed(server, auth, calls)
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()
    acknowledged = [call for call in calls if call.acknowledged is not None]
    assert KILL_AFTER <= len(acknowledged) < len(calls), "the kill came mid-load"

    server = Server(home).start()
    try:
        # Every request again, as it was; then each once more under a fresh key, which only the
        # channel's order id (the natural key) tells apart from a new order.
        run_clients(server.url, auth, calls, lambda call: call.key)
        run_clients(server.url, auth, calls, lambda _: f"fresh-{uuid.uuid4().hex}")
    finally:
        server.stop()

    for call in calls:
        (status, body, replayed), (fresh_status, fresh_body, _) = call.answers
        assert (status, fresh_status) == (201, 201), (body, fresh_body)
        if call.acknowledged is not None:
            assert replayed and body == call.acknowledged, "an acknowledged answer replays exactly"
        assert json.loads(fresh_body) == json.loads(body), "the order id places nothing twice"
    placed = {call.body["client_order_id"]: json.loads(call.answers[0][1]) for call in calls}
    check_oltp(home, calls, placed)
    committed_unanswered = sum(
        1 for call in in_flight if call.answers[0][2] and call.acknowledged is None
    )
    print(  # the report: how the kill fell
        f"acknowledged {len(acknowledged)} of {len(calls)}; {len(in_flight)} in flight at the "
        f"kill, {committed_unanswered} of them committed without an answer"
    )


def seed(home: Path) -> tuple[str, list[Call]]:
    """The demo's catalogue, schemes and templates; a channel's key; members with a topped-up
    wallet and a welcome coupon each; and the orders they will place."""
    prepared_home(home)
    engine = engine_from_settings(Settings(home=home))
    now = dt.datetime.now(dt.UTC)
    people = [f"per_kill{n:05d}{secrets.token_hex(3)}" for n in range(MEMBERS)]
    try:
        with engine.begin() as conn:
            seed_catalogue(conn)
            ensure_demo_templates(conn, now=now)
            ensure_demo_schemes(conn, now=now)
            create_user(
                conn,
                actor=Principal.cli(),
                email="app@example.com",
                role="channel",
                password=secrets.token_urlsafe(16),
                now=now,
            )
            token = create_user_key(conn, actor=Principal.cli(), email="app@example.com", now=now)
            add_members(conn, people, now)
            issue(conn, COUPON, people, issue_key="kill-welcome", actor="test", now=now)
            coupon_of = dict(
                conn.execute(
                    select(coupons.c.person_id, coupons.c.id).where(coupons.c.template_id == COUPON)
                ).all()
            )
    finally:
        engine.dispose()
    rng = random.Random(6)
    calls = [
        Call(
            person_id=person,
            key=f"kill-{uuid.uuid4().hex}",
            body={
                "channel": "app",
                "store_id": "S1",
                "client_order_id": f"kill-{person}-{n}",
                "payment_method": "stored_value",
                "member": {"person_id": person},
                "coupons": [coupon_of[person]] if n == 0 else [],
                "lines": basket(rng),
            },
        )
        for n in range(ORDERS_EACH)
        for person in people
    ]
    return token.key, calls


def add_members(conn: Connection, people: Sequence[str], now: dt.datetime) -> None:
    conn.execute(
        insert(identity_persons),
        [
            {
                "person_id": person,
                "status": "active",
                "origin": "batch",
                "retired_into": None,
                "created_at": now,
                "updated_at": now,
            }
            for person in people
        ],
    )
    for person in people:
        member = enrol(conn, SCHEME, person, channel="app", actor="test", now=now)
        wallet.top_up(
            conn,
            member.id,
            TOP_UP[0],
            bonus_minor=TOP_UP[1],
            currency="CNY",
            natural_key=f"seed:{person}",
            payment_method="wechat_pay",
            actor="test",
            now=now,
        )


def basket(rng: random.Random) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [
        {"product_id": LATTE, "quantity": rng.randint(1, 2), "size": rng.choice(["M", "L"])}
    ]
    for product in (CROISSANT, BEANS):
        if rng.random() < 0.5:
            lines.append({"product_id": product, "quantity": rng.randint(1, 2)})
    return lines


def fire_until_killed(server: Server, auth: dict[str, str], calls: list[Call]) -> list[Call]:
    """Send the orders from CLIENTS threads; SIGKILL the server once KILL_AFTER are acknowledged.
    Returns the calls that were sent and never answered."""
    lock = threading.Lock()
    answered = 0
    refused: list[str] = []

    def client(mine: Sequence[Call]) -> None:
        nonlocal answered
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as http:
            for call in mine:
                call.sent = True
                try:
                    answer = http.post(
                        ORDERS, json=call.body, headers={"Idempotency-Key": call.key}
                    )
                except httpx.TransportError:
                    return  # the server is gone; the rest waits for the restart
                if answer.status_code != 201:
                    refused.append(answer.text)
                    return
                call.acknowledged = answer.content
                with lock:
                    answered += 1

    threads = [threading.Thread(target=client, args=(calls[n::CLIENTS],)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 300
    try:
        while answered < KILL_AFTER and not refused:
            assert time.monotonic() < deadline, f"stalled at {answered}"
            time.sleep(0.005)
        server.kill()
    finally:
        for thread in threads:
            thread.join(timeout=120)
    assert not refused, refused[0]
    return [call for call in calls if call.sent and call.acknowledged is None]


def run_clients(
    url: str, auth: dict[str, str], calls: list[Call], key_of: Callable[[Call], str]
) -> None:
    """Send every call once more from CLIENTS threads, in an order shuffled away from the first."""
    shuffled = random.Random(len(calls)).sample(calls, len(calls))

    def client(mine: Sequence[Call]) -> None:
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            for call in mine:
                answer = http.post(
                    ORDERS, json=call.body, headers={"Idempotency-Key": key_of(call)}
                )
                replayed = answer.headers.get("Idempotent-Replayed") == "true"
                call.answers.append((answer.status_code, answer.content, replayed))

    threads = [
        threading.Thread(target=client, args=(shuffled[n::CLIENTS],)) for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(len(call.answers) == len(calls[0].answers) for call in calls), "a client failed"


def check_oltp(home: Path, calls: list[Call], placed: dict[str, dict[str, Any]]) -> None:
    engine = engine_from_settings(Settings(home=home))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    orders.c.id,
                    orders.c.client_order_id,
                    orders.c.membership_id,
                    orders.c.wallet_minor,
                    orders.c.paid_minor,
                    orders.c.points_earned,
                )
            ).all()
            check_orders_and_coupons(conn, calls, placed, rows)
            check_balances(conn, rows)
            queued = Counter(
                payload["tables"]["orders"][0]["order_id"]
                for topic, payload in conn.execute(
                    select(trade_outbox.c.topic, trade_outbox.c.payload)
                )
                if topic == "order"
            )
            assert queued == Counter(row.id for row in rows), "each order queued for the lake once"
            assert reconcile(conn).differences == []
    finally:
        engine.dispose()


def check_orders_and_coupons(
    conn: Connection,
    calls: list[Call],
    placed: dict[str, dict[str, Any]],
    rows: Sequence[Any],
) -> None:
    by_client_id = Counter(row.client_order_id for row in rows)
    assert len(rows) == len(calls) and set(by_client_id.values()) == {1}, "one order per request"
    order_of = {row.client_order_id: row.id for row in rows}
    assert {cid: body["id"] for cid, body in placed.items()} == order_of
    for call in calls:
        if call.acknowledged is not None:
            assert json.loads(call.acknowledged)["id"] == order_of[call.body["client_order_id"]]
    redeemed = Counter(
        conn.execute(
            select(coupon_events.c.coupon_id).where(coupon_events.c.kind == "redeemed")
        ).scalars()
    )
    assert redeemed and max(redeemed.values()) == 1, "a coupon is redeemed at most once"
    coupon_orders = dict(
        conn.execute(
            select(coupons.c.id, coupons.c.order_id).where(coupons.c.status == "redeemed")
        ).all()
    )
    assert coupon_orders == {
        call.coupon: order_of[call.body["client_order_id"]] for call in calls if call.coupon
    }


def check_balances(conn: Connection, rows: Sequence[Any]) -> None:
    """No wallet below zero; each wallet's payments are its orders' wallet shares, its balance
    the top-up less them; each points balance what its orders earned."""
    balances = {
        (row.membership_id, row.kind): row.balance for row in conn.execute(select(loyalty_accounts))
    }
    assert min(b for (_, kind), b in balances.items() if kind != "points") >= 0
    paid = dict(
        conn.execute(
            select(loyalty_accounts.c.membership_id, -func.sum(loyalty_entries.c.amount))
            .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_entries.c.account_id)
            .where(loyalty_entries.c.kind == "pay")
            .group_by(loyalty_accounts.c.membership_id)
        ).all()
    )
    wallet_share: Counter[int] = Counter()
    earned: Counter[int] = Counter()
    for row in rows:
        assert row.wallet_minor == row.paid_minor > 0
        wallet_share[row.membership_id] += row.wallet_minor
        earned[row.membership_id] += row.points_earned
    assert {member: int(amount) for member, amount in paid.items()} == dict(wallet_share)
    for member, share in wallet_share.items():
        held = balances[(member, "wallet")] + balances[(member, "wallet_bonus")]
        assert held == sum(TOP_UP) - share
        assert balances.get((member, "points"), 0) == earned[member]
