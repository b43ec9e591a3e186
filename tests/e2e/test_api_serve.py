"""``newretail serve`` as a user runs it; the helper here starts it for the other e2e API tests.

``from tests.e2e.test_api_serve import Server, prepared_home``
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from newretail.config import Settings
from newretail.oltp import engine_from_settings, upgrade
from newretail.security import Principal, create_user, create_user_key, create_write_key

# The serve command function as the CLI registers it, run through Typer.
SERVE = "import typer; from newretail.cli.serve import serve; typer.run(serve)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Keys:
    admin: str  # a user key, for Authorization: Bearer
    write: str  # a write key of source "app", for HTTP Basic


def prepared_home(home: Path) -> Keys:
    """Migrate the home's SQLite database and create an admin key and a write key."""
    engine = engine_from_settings(Settings(home=home))
    now = dt.datetime.now(dt.UTC)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            create_user(
                conn,
                actor=Principal.cli(),
                email="admin@example.com",
                role="admin",
                password=secrets.token_urlsafe(16),
                now=now,
            )
            admin = create_user_key(conn, actor=Principal.cli(), email="admin@example.com", now=now)
            write = create_write_key(conn, actor=Principal.cli(), source="app", now=now)
    finally:
        engine.dispose()
    return Keys(admin=admin.key, write=write.key)


class Server:
    """``newretail serve`` in a subprocess on a free loopback port."""

    def __init__(self, home: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "NEWRETAIL_HOME": str(home), **(extra_env or {})}
        self.log = home / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVE, "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # Generous: a loaded 2-core machine imports the whole app slowly. Not a timing assertion.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()  # never leave an orphaned server behind a failed start
        raise AssertionError(f"serve did not come up: {self.log.read_text()}")

    def stop(self) -> None:
        """SIGTERM: uvicorn shuts down, the lifespan drains the flusher into the lake."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


def _serve(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SERVE, *args],
        env={**os.environ, "NEWRETAIL_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_more_workers_need_redis(isolated_home: Path) -> None:
    prepared_home(isolated_home)
    env = {k: v for k, v in os.environ.items() if k != "NEWRETAIL_REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", SERVE, "--workers", "2"],
        env={**env, "NEWRETAIL_HOME": str(isolated_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NEWRETAIL_REDIS_URL" in lines[0], result.stderr
    assert lines[0].startswith("error[serve.workers_need_redis]")


def test_an_unmigrated_database_is_refused_in_one_line(isolated_home: Path) -> None:
    result = _serve(isolated_home, "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error[oltp.not_migrated]")
    assert "newretail db upgrade" in result.stderr


@pytest.mark.slow
def test_serve_answers_and_stops_cleanly(isolated_home: Path) -> None:
    keys = prepared_home(isolated_home)
    server = Server(isolated_home).start()
    try:
        me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {keys.admin}"})
        assert me.json()["role"] == "admin"
    finally:
        server.stop()
    # uvicorn re-raises the signal once its shutdown (and the lifespan's final flush) is complete.
    assert server.proc is not None and server.proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log.read_text()
