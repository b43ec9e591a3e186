"""What the HTTP benchmarks share: a free port, a server run as a subprocess until it answers its
health check, the CPU the server, its helpers and the load generator used, and a fresh PostgreSQL
schema to run on.

Not a test. Imported by the bench scripts (``sys.path`` holds bench/ when a script runs).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

# The PostgreSQL the benchmarks use; NEWRETAIL_TEST_POSTGRES points elsewhere (a psycopg URL).
POSTGRES = os.environ.get("NEWRETAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# `newretail serve` in the running interpreter, whatever is on PATH: the same options as the CLI.
SERVE = [
    sys.executable,
    "-c",
    "import typer; from newretail.cli.serve import serve; typer.run(serve)",
]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(cpu: int) -> list[str]:
    """A command prefix that runs the command on one CPU (nothing when taskset is missing)."""
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []


@contextlib.contextmanager
def running(
    command: list[str],
    env: Mapping[str, str],
    log: Path,
    *,
    health: str = "/health",
    startup_s: float = 90,
    settle_s: float = 0,
    stop_s: float = 60,
) -> Iterator[Server]:
    """Run ``command --port <free port>`` with its output appended to ``log``, until it answers
    ``health``; then ``settle_s`` more for the other workers to come up. SIGTERM when done, and
    SIGKILL to the whole process tree if it has not exited ``stop_s`` later (still draining a
    backlog of requests)."""
    port = free_port()
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], env=dict(env), stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited during startup: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not come up: {log.read_text()[-2000:]}")
            try:
                httpx.get(f"{url}{health}", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(settle_s)
        yield Server(url, proc.pid)
    finally:
        stop(proc, stop_s)


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """SIGTERM, then SIGKILL to the process and its children if it outlives ``timeout_s``."""
    if proc.poll() is not None:
        return
    children = family(proc.pid)[1:]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        for process in [proc.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGKILL)
        proc.wait(timeout=30)


def family(pid: int) -> list[int]:
    """The process and all its descendants (a server's workers)."""
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (those gone count 0)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy: to tell how much other work took."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def named(name: str) -> list[int]:
    """Every process called ``name`` (``redis-server``, ``postgres``)."""
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]


@contextlib.contextmanager
def postgres_schema(prefix: str) -> Iterator[str | None]:
    """A SQLAlchemy URL to a fresh schema ``<prefix>_<random>`` in the ``test`` database (named by
    ``search_path`` in the URL, as tests/integration/databases.py does), dropped afterwards; None,
    with a printed reason, when the server is not there."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        print("psycopg is not installed (the postgres extra): PostgreSQL is skipped")
        yield None
        return
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"no PostgreSQL at {POSTGRES} ({first}): PostgreSQL is skipped")
        yield None
        return
    schema = f"{prefix}_{secrets.token_hex(4)}"

    def on_schema(template: sql.SQL) -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(template.format(sql.Identifier(schema)))

    on_schema(sql.SQL("CREATE SCHEMA {}"))
    try:
        separator = "&" if "?" in POSTGRES else "?"
        options = quote(f"-csearch_path={schema}", safe="")
        yield (
            POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
            + f"{separator}options={options}"
        )
    finally:
        on_schema(sql.SQL("DROP SCHEMA {} CASCADE"))
