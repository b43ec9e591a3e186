"""Supply alerts in the OLTP store on SQLite and PostgreSQL: saved once per natural key and updated on
a re-run, older ones closed as superseded or cleared, seen and acknowledged within the caller's
stores; and sent to a real HTTP receiver on 127.0.0.1, signed, retried after a 500, given up on
after too many failures, and never delivered twice when the sender runs again (a whole day run
twice: ``test_supply_alerts_run``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.unit.supply_alert_chain import AS_OF

from newretail.errors import Conflict, Forbidden
from newretail.oltp.supply_alert_tables import (
    supply_alert_deliveries,
    supply_alerts,
    supply_webhooks,
)
from newretail.security import Principal, Role
from newretail.security.pii import PiiProtector
from newretail.supply.alerts import (
    Alert,
    Retry,
    acknowledge_alert,
    add_webhook,
    close_stale,
    deactivate_webhook,
    list_alerts,
    save_alerts,
    send_pending,
)
from newretail.supply.alerts.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
PROTECTOR = PiiProtector(b"k" * 32)
PLANNER = Principal(user_id=1, role=Role.SUPPLY_PLANNER)
MANAGER = Principal(user_id=2, role=Role.STORE_MANAGER, stores=frozenset({"S1"}))
ANALYST = Principal(user_id=3, role=Role.ANALYST)
FAST = Retry(attempts=3, first_delay_s=0.01, give_up_after=10, timeout_s=5)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers ``statuses`` in turn (200
    once they run out)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[Message, bytes]] = field(default_factory=list)
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.requests.append((self.headers, body))
            self.send_response(got.statuses.pop(0) if got.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def oltp(migrated_engine: Engine) -> Engine:
    """The module's database with no alerts, deliveries or webhooks in it."""
    with migrated_engine.begin() as conn:
        for table in (supply_alert_deliveries, supply_alerts, supply_webhooks):
            conn.execute(delete(table))
    return migrated_engine


def alert(
    kind: Any,
    where: str,
    material: str = "M1",
    *,
    on: dt.date = AS_OF,
    severity: Any = "high",
    **numbers: Any,
) -> Alert:
    location_type = "warehouse" if where.startswith("W") else "store"
    return Alert(kind, severity, location_type, where, material, on, numbers or {"cover_days": 1})


def hook(oltp: Engine, url: str) -> str:
    with oltp.begin() as conn:
        return add_webhook(
            conn, url=url, description="ops", actor=PLANNER, protector=PROTECTOR, now=NOW
        ).secret


def count(oltp: Engine, table: Any) -> int:
    with oltp.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_saving_a_day_again_updates_and_queues_each_alert_once(
    oltp: Engine, receiver: Receiver
) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        retired = add_webhook(
            conn, url=receiver.url, description="old", actor=PLANNER, protector=PROTECTOR, now=NOW
        )
        deactivate_webhook(conn, retired.webhook.id, actor=PLANNER, now=NOW)
    day = [alert("stockout", "S1"), alert("late_delivery", "W1")]
    with oltp.begin() as conn:
        first = save_alerts(conn, day, now=NOW)
    again = [
        alert("stockout", "S1", severity="critical", cover_days=0),
        alert("late_delivery", "W1"),
    ]
    with oltp.begin() as conn:
        second = save_alerts(conn, again, now=NOW + dt.timedelta(hours=1))
    assert (len(first.new_ids), first.updated, first.queued) == (2, 0, 2)
    assert (len(second.new_ids), second.updated, second.queued) == (0, 2, 0)
    assert count(oltp, supply_alerts) == 2
    assert count(oltp, supply_alert_deliveries) == 2  # the active webhook only
    with oltp.connect() as conn:
        page = list_alerts(conn, PLANNER)
    assert [(a.kind, a.severity, a.numbers) for a in page.data] == [
        ("stockout", "critical", {"cover_days": 0}),
        ("late_delivery", "high", {"cover_days": 1}),
    ]
    assert page.data[0].status == "open"


def test_a_new_day_supersedes_or_clears_older_alerts_of_the_kinds_it_computed(oltp: Engine) -> None:
    yesterday = AS_OF - dt.timedelta(days=1)
    with oltp.begin() as conn:
        save_alerts(
            conn,
            [
                alert("stockout", "S1", on=yesterday),
                alert("stockout", "S2", on=yesterday),
                alert("expiring", "S3", on=yesterday),
            ],
            now=NOW,
        )
        today = [alert("stockout", "S1")]
        save_alerts(conn, today, now=NOW)
        closed = close_stale(conn, as_of=AS_OF, kinds=("stockout",), current=today, now=NOW)
        # Running yesterday again afterwards closes nothing of today's.
        assert close_stale(conn, as_of=yesterday, kinds=("stockout",), current=[], now=NOW) == 0
        # A day run late, after newer ones: its alert is superseded at once by today's S1.
        earlier = [alert("stockout", "S1", on=yesterday - dt.timedelta(days=1))]
        save_alerts(conn, earlier, now=NOW)
        late = close_stale(
            conn, as_of=earlier[0].business_date, kinds=("stockout",), current=earlier, now=NOW
        )
    assert (closed, late) == (2, 1)
    with oltp.connect() as conn:
        rows = {
            (a.location_id, a.business_date): (a.status, a.resolution)
            for a in list_alerts(conn, PLANNER).data
        }
    assert rows == {
        ("S1", yesterday - dt.timedelta(days=1)): ("resolved", "superseded"),
        ("S1", yesterday): ("resolved", "superseded"),
        ("S2", yesterday): ("resolved", "cleared"),
        ("S3", yesterday): ("open", None),  # expiry was not computed: nothing said about it
        ("S1", AS_OF): ("open", None),
    }


def test_store_managers_see_and_acknowledge_only_their_stores(oltp: Engine) -> None:
    with oltp.begin() as conn:
        save_alerts(
            conn,
            [
                alert("stockout", "S1", severity="medium"),
                alert("expiring", "S1", severity="critical"),
                alert("stockout", "S2"),
                alert("late_delivery", "W1"),
            ],
            now=NOW,
        )
        mine = list_alerts(conn, MANAGER)
        everything = list_alerts(conn, PLANNER)
        only_stockouts = list_alerts(conn, PLANNER, kind="stockout", location_id="S2")
    assert [(a.location_id, a.kind) for a in mine.data] == [("S1", "expiring"), ("S1", "stockout")]
    assert everything.count == 4
    assert [a.severity for a in everything.data] == ["critical", "high", "high", "medium"]
    assert [a.location_id for a in only_stockouts.data] == ["S2"]
    ids = {(a.location_id, a.kind): a.id for a in everything.data}
    with oltp.begin() as conn:
        done = acknowledge_alert(conn, ids[("S1", "stockout")], actor=MANAGER, now=NOW)
        assert (done.status, done.acknowledged_by) == ("acknowledged", "user:2")
        again = acknowledge_alert(conn, done.id, actor=PLANNER, now=NOW + dt.timedelta(hours=1))
        assert (again.acknowledged_by, again.acknowledged_at) == ("user:2", NOW)
        for refused, who in (
            (ids[("S2", "stockout")], MANAGER),
            (ids[("W1", "late_delivery")], MANAGER),
            (ids[("S2", "stockout")], ANALYST),
        ):
            with pytest.raises(Forbidden):
                acknowledge_alert(conn, refused, actor=who, now=NOW)
        assert (
            acknowledge_alert(conn, ids[("W1", "late_delivery")], actor=PLANNER, now=NOW).status
            == "acknowledged"
        )
        assert list_alerts(conn, MANAGER, status="acknowledged").count == 1
        close_stale(conn, as_of=AS_OF, kinds=("stockout",), current=[], now=NOW)
        with pytest.raises(Conflict) as caught:
            acknowledge_alert(conn, ids[("S2", "stockout")], actor=PLANNER, now=NOW)
    assert caught.value.code == "supply.alert_resolved"


def test_each_new_alert_is_sent_signed_once(oltp: Engine, receiver: Receiver) -> None:
    secret = hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", "S1"), alert("late_delivery", "W1")], now=NOW)
    first = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=FAST)
    again = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=FAST)
    assert (first.delivered, first.failed, first.pending) == (2, 0, 0)
    assert (again.delivered, again.failed, again.pending) == (0, 0, 0)
    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == expected
        assert headers[IDEMPOTENCY_HEADER] == json.loads(body)["id"]
    store, dc = sorted(receiver.bodies(), key=lambda b: b["alert"]["location_type"])
    assert store["alert"]["key"] == "stockout/store/S1/M1/2026-03-10"
    assert store["route"] == {"roles": ["store_manager", "supply_planner"], "store_id": "S1"}
    assert dc["route"] == {"roles": ["supply_planner"], "store_id": None}
    with oltp.connect() as conn:
        rows = conn.execute(select(supply_alert_deliveries)).mappings().all()
    assert [(r["status"], r["attempts"], r["last_status_code"]) for r in rows] == [
        ("delivered", 1, 200)
    ] * 2


def test_a_failed_attempt_is_retried_with_the_same_id_and_body(
    oltp: Engine, receiver: Receiver
) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", "S1")], now=NOW)
    receiver.statuses = [500]
    waits: list[float] = []
    report = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=FAST, sleep=waits.append)
    assert report.delivered == 1
    assert waits == [0.01]
    (h1, b1), (h2, b2) = receiver.requests
    assert b1 == b2 and h1[IDEMPOTENCY_HEADER] == h2[IDEMPOTENCY_HEADER]
    with oltp.connect() as conn:
        row = conn.execute(select(supply_alert_deliveries)).mappings().one()
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("delivered", 2, NOW)


def test_a_receiver_that_keeps_failing_is_given_up_on(oltp: Engine, receiver: Receiver) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", "S1")], now=NOW)
    receiver.statuses = [503] * 5
    patient = Retry(attempts=2, first_delay_s=0.0, give_up_after=3, timeout_s=5)
    first = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=patient)
    second = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=patient)
    third = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=patient)
    assert (first.pending, second.failed, third.failed) == (1, 1, 0)
    assert len(receiver.requests) == 3
    with oltp.connect() as conn:
        row = conn.execute(select(supply_alert_deliveries)).mappings().one()
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "HTTP 503")


def test_a_receiver_that_is_down_costs_one_deliverys_retries_per_run(
    oltp: Engine, receiver: Receiver
) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", s) for s in ("S1", "S2", "S3")], now=NOW)
    receiver.statuses = [500, 500]
    twice = Retry(attempts=2, first_delay_s=0.0, give_up_after=10, timeout_s=5)
    down = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=twice)
    assert (down.delivered, down.pending, len(receiver.requests)) == (0, 3, 2)
    back = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=twice)
    assert (back.delivered, back.pending, len(receiver.requests)) == (3, 0, 5)


def test_an_alert_resolved_before_it_was_sent_is_not_sent(oltp: Engine, receiver: Receiver) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", "S1"), alert("stockout", "S2")], now=NOW)
        close_stale(
            conn, as_of=AS_OF, kinds=("stockout",), current=[alert("stockout", "S1")], now=NOW
        )
    report = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=FAST)
    assert (report.delivered, report.skipped) == (1, 1)
    assert [b["alert"]["location_id"] for b in receiver.bodies()] == ["S1"]


def test_deactivating_a_webhook_fails_what_waited_for_it(oltp: Engine, receiver: Receiver) -> None:
    hook(oltp, receiver.url)
    with oltp.begin() as conn:
        save_alerts(conn, [alert("stockout", "S1")], now=NOW)
        webhook_id = conn.execute(select(supply_webhooks.c.id)).scalar_one()
        off = deactivate_webhook(conn, webhook_id, actor=PLANNER, now=NOW)
    assert (off.active, off.deactivated_by) == (False, "user:1")
    report = send_pending(oltp, protector=PROTECTOR, now=NOW, retry=FAST)
    assert (report.delivered, report.pending, receiver.requests) == (0, 0, [])
