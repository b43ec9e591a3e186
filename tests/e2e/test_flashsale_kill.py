"""kill -9 of an API worker, then of the whole server, mid-sale: ``newretail serve --workers 2`` on
Redis, hammered by clients that retry a failed call with the same Idempotency-Key as a channel's
backend does. After a restart, every reservation a client got a 2xx for is an order in OLTP, and
``newretail flashsale reconcile`` shows no difference."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import select
from tests.e2e.test_api_serve import free_port, prepared_home
from tests.unit.stream.backends import require_redis

from newretail.config import Settings
from newretail.flashsale import RedisEngine, SaleDraft, SaleItem, arm_sale, create_sale
from newretail.oltp import engine_from_settings
from newretail.oltp.tables import flashsale_orders
from newretail.security import Principal, create_user, create_user_key, generate_password

REDIS = "redis://127.0.0.1:6379/12"  # a database of its own: the server uses the default prefix
SERVE = "import typer; from newretail.cli.serve import serve; typer.run(serve)"
SALE = "fs-kill"
CLIENTS = 6

pytestmark = [pytest.mark.slow, pytest.mark.redis]


class Serve:
    """``newretail serve --workers 2`` on a fixed port, started again after each kill."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "NEWRETAIL_HOME": str(home), "NEWRETAIL_REDIS_URL": REDIS}
        self.log = home / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVE, "--port", str(self.port), "--workers", "2"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while len(self.workers()) < 2 or not self.healthy():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def workers(self) -> list[psutil.Process]:
        assert self.proc is not None
        alive = []
        for child in psutil.Process(self.proc.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(
                    child.cmdline()
                ):
                    alive.append(child)
            except psutil.Error:  # gone meanwhile
                continue
        return alive

    def kill_one_worker(self) -> int:
        victim = self.workers()[0]
        victim.send_signal(signal.SIGKILL)
        return victim.pid

    def kill_all(self) -> None:
        assert self.proc is not None
        everyone = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children()]
        for process in everyone:
            process.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        psutil.wait_procs(everyone, timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def prepare(home: Path) -> str:
    """A sale open now for everyone with ample stock, armed in Redis; a channel's API key."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    prepared_home(home)
    settings = Settings(home=home, redis_url=REDIS)
    database = engine_from_settings(settings)
    now = dt.datetime.now(dt.UTC)
    try:
        with database.begin() as conn:
            create_sale(
                conn,
                SaleDraft(
                    id=SALE,
                    name="Kill test",
                    starts_at=now - dt.timedelta(minutes=1),
                    ends_at=now + dt.timedelta(hours=1),
                    per_person_limit=1,
                    payment_window_seconds=3600,
                    channels=("app",),
                    items=(SaleItem("SKU-A", 1_000_000, 990, "CNY"),),
                ),
                now=now,
            )
            create_user(
                conn,
                actor=Principal.cli(),
                email="channel@example.com",
                role="channel",
                password=generate_password(),
                now=now,
            )
            key = create_user_key(conn, actor=Principal.cli(), email="channel@example.com", now=now)
        engine = RedisEngine.connect(REDIS)
        arm_sale(database, engine, SALE, now=now)
        engine.close()
    finally:
        database.dispose()
    return key.key


def test_kill_9_of_a_worker_and_of_the_server_loses_no_acknowledged_reservation(
    isolated_home: Path,
) -> None:
    require_redis()
    key = prepare(isolated_home)
    server = Serve(isolated_home)
    server.start()
    try:
        check_nothing_lost(server, key, isolated_home)
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill_all()
        import redis

        redis.Redis.from_url(REDIS).flushdb()


def check_nothing_lost(server: Serve, key: str, home: Path) -> None:
    acknowledged: dict[str, str] = {}  # reservation id -> person
    lock = threading.Lock()
    stop = threading.Event()

    def shop(client_number: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            n = 0
            while not stop.is_set():
                person = f"c{client_number}-{n}"
                body = {"sku": "SKU-A", "person_id": person}
                call = {
                    "Idempotency-Key": f"key-{person}",
                    "X-Forwarded-For": f"10.{client_number}.0.{n % 250}",
                }
                while not stop.is_set():  # retry the same click until it is answered
                    try:
                        answer = client.post(
                            f"/api/v1/flashsales/{SALE}/reservations", json=body, headers=call
                        )
                    except httpx.TransportError:
                        time.sleep(0.05)
                        continue
                    if answer.status_code in (200, 201):
                        with lock:
                            acknowledged[answer.json()["id"]] = person
                        break
                    if answer.status_code in (202, 429, 503):
                        time.sleep(0.05)
                        continue
                    raise AssertionError(answer.text)
                n += 1

    def acknowledged_count() -> int:
        with lock:
            return len(acknowledged)

    def wait_until(count: int) -> None:
        deadline = time.monotonic() + 120
        while acknowledged_count() < count:
            assert time.monotonic() < deadline, f"stalled at {acknowledged_count()}"
            time.sleep(0.05)

    shoppers = [threading.Thread(target=shop, args=(c,)) for c in range(CLIENTS)]
    for thread in shoppers:
        thread.start()
    try:
        wait_until(300)
        killed = server.kill_one_worker()
        wait_until(acknowledged_count() + 300)  # the survivor and the replacement carry on
        assert killed not in {w.pid for w in server.workers()}
        server.kill_all()
        at_kill = acknowledged_count()
        server.start()
        wait_until(at_kill + 300)
    finally:
        stop.set()
        for thread in shoppers:
            thread.join(timeout=60)
    # Every person was answered with one reservation however often its click was sent again.
    assert len(set(acknowledged.values())) == len(acknowledged)

    newretail = str(Path(sys.executable).with_name("newretail"))
    reconciled = subprocess.run(
        [newretail, "flashsale", "reconcile", SALE, "--wait", "60"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "reconciled: no differences" in reconciled.stdout
    database = engine_from_settings(Settings(home=home))
    try:
        with database.connect() as conn:
            written = set(
                conn.execute(
                    select(flashsale_orders.c.reservation_id).where(
                        flashsale_orders.c.sale_id == SALE
                    )
                ).scalars()
            )
    finally:
        database.dispose()
    assert set(acknowledged) <= written
