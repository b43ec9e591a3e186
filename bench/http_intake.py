"""HTTP event intake under load: wrk against ``newretail serve`` (one worker), embedded stream then Redis.

Not a test. wrk runs in a second process on loopback (server pinned to CPU 0, wrk to CPU 1 when
``taskset`` exists), posting unique messageIds: ``/v1/batch`` with 100 events per call and ``/v1/track``
with one. Medians of 3 runs of events/s and p50/p99 latency; zero loss is checked by counting, after
the server's shutdown flush, the distinct message ids of each run in the lake's ODS against the
events wrk saw acknowledged (200s x events per request). A raw ASGI app answering the same bytes on
uvicorn+httptools is measured beside it. Writes the ``http_intake`` section of bench/RESULTS.md.
Run: ``.venv/bin/python bench/http_intake.py`` (needs /usr/bin/wrk; Redis at 127.0.0.1:6379 for half).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow.compute as pc

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings, upgrade
from newretail.security import Principal, create_write_key
from results import machine, update_section

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own; its newretail:* keys are deleted
SCRIPT = Path(__file__).with_name("wrk") / "intake.lua"
SERVE = "import typer; from newretail.cli.serve import serve; typer.run(serve)"
ECHO = """
import sys, uvicorn
BODY = b'{"success":true}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            access_log=False, log_level="warning")
"""
DURATION_S = 10
RUNS = 3
CASES = [("batch", 100, "/v1/batch", 16), ("single", 1, "/v1/track", 32)]


@dataclass(frozen=True)
class Run:
    events_per_s: float
    p50_ms: float
    p99_ms: float
    acknowledged: int
    prefix: str


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited during startup")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def _write_key(home: Path) -> str:
    engine = engine_from_settings(Settings(home=home))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            key = create_write_key(
                conn, actor=Principal.cli(), source="app", now=dt.datetime.now(dt.UTC)
            )
    finally:
        engine.dispose()
    return key.key


def _wrk(url: str, *, auth: str, prefix: str, per: int, path: str, connections: int) -> Run:
    command = [
        *_pin(1), "wrk", "-t2", f"-c{connections}", f"-d{DURATION_S}s", "--timeout", "10s",
        "-s", str(SCRIPT), url, "--", auth, prefix, str(per), path,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    if stats["socket_errors"]:
        print(f"  warning: {stats['socket_errors']} socket errors", file=sys.stderr)
    acknowledged = (stats["requests"] - stats["non2xx"]) * per
    return Run(
        events_per_s=acknowledged / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        acknowledged=acknowledged,
        prefix=prefix,
    )


def _lake_ids(home: Path) -> Counter[str]:
    lake = Lake(home / "lake")
    ids: Counter[str] = Counter()
    for partition in lake.partitions("ods", "app_events"):
        column = lake.read_partition("ods", "app_events", partition).column("message_id")
        prefixes = pc.utf8_slice_codeunits(column, 0, 13)  # the run prefix of each message id
        ids.update(str(p) for p in prefixes.to_pylist())
    return ids


@dataclass(frozen=True)
class Backend:
    runs: dict[str, list[Run]]  # by case
    stored: int  # distinct message ids of these runs in the lake after shutdown
    shutdown_s: float  # SIGTERM to exit: the shutdown flush, so how far the lake was behind


def _bench_backend(name: str, redis_url: str | None) -> Backend:
    with tempfile.TemporaryDirectory(prefix="nr-http-") as tmp:
        home = Path(tmp)
        key = _write_key(home)
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        port = _free_port()
        env = {**os.environ, "NEWRETAIL_HOME": str(home)}
        env.pop("NEWRETAIL_REDIS_URL", None)
        if redis_url:
            env["NEWRETAIL_REDIS_URL"] = redis_url
        server = subprocess.Popen(
            [*_pin(0), sys.executable, "-c", SERVE, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results: dict[str, list[Run]] = {}
        try:
            _wait(f"http://127.0.0.1:{port}/health", server)
            for case, per, path, connections in CASES:
                results[case] = []
                for _ in range(RUNS):
                    prefix = uuid.uuid4().hex[:12] + "-"  # 13 characters, as _lake_ids cuts
                    run = _wrk(
                        f"http://127.0.0.1:{port}",
                        auth=auth,
                        prefix=prefix,
                        per=per,
                        path=path,
                        connections=connections,
                    )
                    print(
                        f"{name} {case}: {run.events_per_s:,.0f} events/s p99 {run.p99_ms:.1f} ms"
                    )
                    results[case].append(run)
        finally:
            # The shutdown flush drains the stream and merges what is staged into the lake; how long
            # it takes shows how far the lake was behind intake.
            stopping = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=600)
            shutdown_s = time.monotonic() - stopping
        stored = _lake_ids(home)
        for runs in results.values():
            for run in runs:
                if stored[run.prefix] < run.acknowledged:
                    raise SystemExit(
                        f"LOSS: {run.acknowledged} acknowledged, {stored[run.prefix]} in the lake"
                    )
        total = sum(stored[r.prefix] for runs in results.values() for r in runs)
    if redis_url:
        _clear_redis(redis_url)
    return Backend(results, total, shutdown_s)


def _clear_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match="newretail:*", count=1000))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])
    client.close()


def _echo() -> Run:
    port = _free_port()
    server = subprocess.Popen(
        [*_pin(0), sys.executable, "-c", ECHO, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/", server)
        runs = [
            _wrk(
                f"http://127.0.0.1:{port}",
                auth="none",
                prefix="echo",
                per=1,
                path="/v1/track",
                connections=32,
            )
            for _ in range(RUNS)
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return _median(runs)


def _median(runs: list[Run]) -> Run:
    return Run(
        events_per_s=statistics.median(r.events_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        acknowledged=sum(r.acknowledged for r in runs),
        prefix="",
    )


def _verdict(case: str, m: Run) -> str:
    if case == "batch":
        met = m.events_per_s >= 20_000
        return f"batched {m.events_per_s:,.0f} events/s, {'met' if met else 'MISSED'}"
    met = m.events_per_s >= 2_000 and m.p99_ms < 100
    return f"single {m.events_per_s:,.0f} events/s at p99 {m.p99_ms:.0f} ms, {'met' if met else 'MISSED'}"


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    backends: list[tuple[str, str | None]] = [("embedded", None)]
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
        backends.append(("redis", REDIS_URL))
    except Exception:
        print("no Redis at 127.0.0.1:6379: the Redis rows are skipped", file=sys.stderr)
    rows = []
    verdicts = []
    for name, url in backends:
        backend = _bench_backend(name, url)
        acknowledged = sum(r.acknowledged for runs in backend.runs.values() for r in runs)
        for case, _per, path, connections in CASES:
            m = _median(backend.runs[case])
            if name == "embedded":
                verdicts.append(_verdict(case, m))
            rows.append(
                f"| {name} | `{path}` ({'100 events' if case == 'batch' else '1 event'}/request, "
                f"{connections} connections) | {m.events_per_s:,.0f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} |"
            )
        rows.append(
            f"| {name} | zero loss: {acknowledged:,} events acknowledged, {backend.stored:,} "
            f"distinct in the lake after the shutdown flush ({backend.shutdown_s:.1f} s from "
            "SIGTERM to exit) | | | |"
        )
    echo = _echo()
    rows.append(
        f"| comparison | raw ASGI app, same response, no parsing or durability (32 connections) "
        f"| {echo.events_per_s:,.0f} req/s | {echo.p50_ms:.1f} | {echo.p99_ms:.1f} |"
    )
    body = "\n".join(
        [
            "## HTTP event intake (bench/http_intake.py)",
            "",
            f"Machine: {machine()}.",
            f"wrk 2 threads pinned to CPU 1, `newretail serve` (1 worker, uvloop + httptools) pinned to "
            f"CPU 0; {DURATION_S} s per run, median of {RUNS} runs; the background flusher runs "
            "throughout, in the server process (so on CPU 0): it stages the stream into Parquet "
            "parts every 2 s and merges them into the day partitions every 30 s and at shutdown. "
            "Lake count ≥ acknowledged: requests still in flight when wrk stops may be "
            "stored without being counted as acknowledged.",
            "Targets: ≥ 20,000 events/s batched; ≥ 2,000 single events/s with p99 < 100 ms.",
            "",
            "| stream | request | events/s | p50 ms | p99 ms |",
            "| --- | --- | ---: | ---: | ---: |",
            *rows,
            "",
            "Against the targets (embedded): " + "; ".join(verdicts) + ".",
        ]
    )
    print(body)
    update_section("http_intake", body)


if __name__ == "__main__":
    main()
