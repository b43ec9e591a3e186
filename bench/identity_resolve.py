"""Real-time OneID under load: wrk against ``POST /api/v1/identity/resolve`` on 1M members.

Not a test. Loads 1,000,000 persons with 3,000,000 identity links (an app uid, a POS card and a
mini-program openid each, all three carrying the member's phone hash) into a fresh SQLite file, then
into a fresh PostgreSQL schema when the server at 127.0.0.1:5432 is there. For each, ``newretail
serve`` (one worker) runs pinned to CPU 0 and wrk to CPU 1 with the mix of bench/wrk/resolve.lua:
90% a known phone, 5% a known app uid, 5% a new phone (a provisional person is created); 2 threads
and 32 connections (under load), then 1 connection (the time of one call). Medians of 3 runs of
requests/s and p50/p99, and every status counted. Beside it, with no server running, the same
mix in one Python loop pinned to CPU 0: the service function ``resolve`` in its own transaction
(no HTTP, no auth, no idempotency record), and the obvious bare SQLAlchemy lookup. Writes the
``identity_resolve`` section of bench/RESULTS.md.
Run: ``.venv/bin/python bench/identity_resolve.py`` (needs /usr/bin/wrk; a few minutes per backend).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from pydantic import SecretStr
from sqlalchemy import Engine, event, func, insert, select, text

from newretail.config import Settings
from newretail.identity.realtime import resolve
from newretail.oltp import make_engine, upgrade
from newretail.oltp.bulk import upsert_rows
from newretail.oltp.engine import database_url
from newretail.oltp.tables import identity_links, identity_persons
from newretail.security import Principal, create_user, create_user_key, generate_password
from newretail.security.pii import PiiProtector
from results import machine, update_section
from serve import SERVE, pinned, postgres_schema, running

SCRIPT = Path(__file__).with_name("wrk") / "resolve.lua"
MEMBERS = 1_000_000
CHUNK = 250_000  # members per upsert_rows call


@dataclass(frozen=True)
class Case:
    name: str
    threads: int
    connections: int
    seconds: int


# Under load as the brief sets it, and one connection at a time: the service time of one call.
LOAD = Case("load", threads=2, connections=32, seconds=20)
SERIAL = Case("serial", threads=1, connections=1, seconds=10)
LOOP_S = 10
RUNS = 3
ADMIN = "bench-admin@newretail.test"
# (source, record id) of each member's three records: app uid, POS card, mini-program openid.
RECORDS = (("app", "U{:09d}"), ("pos", "86{:012d}"), ("mini_program", "o6_bm{:023d}"))


@dataclass(frozen=True)
class Run:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: int  # the server closes the connection after a 500, so these come with them
    statuses: dict[str, int]
    errors: list[str]


@dataclass(frozen=True)
class Backend:
    name: str
    load_s: float
    http: dict[str, list[Run]]  # by case name
    service: list[Run]
    bare: list[Run]
    provisional: int  # persons the runs created, to check against the 201s counted
    failed: int  # requests the server logged as failed ("Exception in ASGI application")
    exceptions: list[str]  # each distinct exception in its log, with the last frame of ours


# --- the data -----------------------------------------------------------------------------------


def _phone(i: int) -> str:
    return f"139{i:08d}"


def _load(engine: Engine, protector: PiiProtector) -> float:
    """1M persons and 3M links through upsert_rows, CHUNK members per transaction; seconds taken."""
    now = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    for start in range(0, MEMBERS, CHUNK):
        ids = range(start, min(start + CHUNK, MEMBERS))
        n = len(ids)
        persons = [f"B{i:011d}" for i in ids]
        hashes = [protector.hash("+86" + _phone(i)) for i in ids]
        stamp = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
        person_rows = pa.table(
            {
                "person_id": persons,
                "status": ["active"] * n,
                "origin": ["batch"] * n,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        link_rows = pa.concat_tables(
            pa.table(
                {
                    "source": [source] * n,
                    "source_record_id": [pattern.format(i) for i in ids],
                    "person_id": persons,
                    "phone_hash": hashes,
                    "reason_kind": ["identifier"] * n,
                    "reason": ["phone"] * n,
                    "origin": ["lake"] * n,
                    "linked_at": stamp,
                }
            )
            for source, pattern in RECORDS
        )
        with engine.begin() as conn:
            upsert_rows(conn, identity_persons, person_rows, ["person_id"])
            upsert_rows(conn, identity_links, link_rows, ["source", "source_record_id"])
        print(f"  loaded {start + n:,} members", flush=True)
    # A live database has planner statistics; a freshly bulk-loaded one gets them here.
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.monotonic() - started


def _loader(engine: Engine) -> Engine:
    """An engine for the load only: on SQLite with a 1 GiB page cache, so the random inserts into
    the phone_hash index do not go to the file; the measured engines keep the default."""
    if engine.dialect.name != "sqlite":
        return engine
    loader = make_engine(str(engine.url))

    @event.listens_for(loader, "connect")
    def _cache(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA cache_size=-1048576")

    return loader


def _admin_key(engine: Engine) -> str:
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        actor = Principal.cli()
        create_user(
            conn, actor=actor, email=ADMIN, role="admin", password=generate_password(), now=now
        )
        return create_user_key(conn, actor=actor, email=ADMIN, now=now).key


def _provisional(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(identity_persons.c.status == "provisional")
        return int(conn.execute(query).scalar_one())


# --- HTTP under wrk -----------------------------------------------------------------------------


def _wrk(url: str, case: Case, *, key: str, run: int) -> Run:
    command = [
        *pinned(1), "wrk", f"-t{case.threads}", f"-c{case.connections}", f"-d{case.seconds}s",
        "--timeout", "10s", "-s", str(SCRIPT), url, "--", f"Bearer {key}", str(run), str(MEMBERS),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    return Run(
        requests_per_s=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        requests=stats["requests"],
        non2xx=stats["non2xx"],
        socket_errors=stats["socket_errors"],
        statuses=stats["statuses"],
        errors=stats["first_errors"],
    )


# --- the same mix in one Python loop ------------------------------------------------------------


def _mix(rng: random.Random, fresh: Iterator[str]) -> tuple[str, str]:
    draw = rng.randrange(100)
    if draw < 90:
        return "phone", _phone(rng.randrange(MEMBERS))
    if draw < 95:
        return "app_uid", RECORDS[0][1].format(rng.randrange(MEMBERS))
    return "phone", next(fresh)


def _timed(call: Callable[[str, str], None], *, tag: int) -> Run:
    """Calls ``call(type, value)`` with the mix for LOOP_S seconds; new phones are 136, the tag and
    a counter (the HTTP runs use 137), so each is new."""
    rng = random.Random(tag)
    fresh = (f"136{tag:02d}{i:06d}" for i in range(1_000_000))
    times: list[float] = []
    started = time.perf_counter()
    while (now := time.perf_counter()) - started < LOOP_S:
        kind, value = _mix(rng, fresh)
        call(kind, value)
        times.append(time.perf_counter() - now)
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(times, n=100)
    return Run(len(times) / elapsed, cuts[49] * 1000, cuts[98] * 1000, len(times), 0, 0, {}, [])


def _service_call(engine: Engine, protector: PiiProtector) -> Callable[[str, str], None]:
    """The service function the endpoint calls, in a transaction of its own."""

    def call(kind: str, value: str) -> None:
        with engine.begin() as conn:
            resolve(
                conn,
                [{"type": kind, "value": value}],
                protector=protector,
                now=dt.datetime.now(dt.UTC),
            )

    return call


def _bare_call(engine: Engine, protector: PiiProtector) -> Callable[[str, str], None]:
    """The obvious way: hash the phone, one indexed SELECT, and on a miss insert a person and link."""
    links = identity_links

    def call(kind: str, value: str) -> None:
        with engine.begin() as conn:
            if kind == "phone":
                phone_hash = protector.hash("+86" + value)
                where = links.c.phone_hash == phone_hash
            else:
                where = (links.c.source == "app") & (links.c.source_record_id == value)
            query = select(links.c.person_id).where(where).limit(1)
            if conn.execute(query).scalar_one_or_none() is not None or kind != "phone":
                return
            now = dt.datetime.now(dt.UTC)
            person = "P" + secrets.token_hex(6).upper()
            conn.execute(
                insert(identity_persons).values(
                    person_id=person,
                    status="provisional",
                    origin="resolve",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                insert(links).values(
                    source="api",
                    source_record_id=f"phone:{phone_hash}",
                    person_id=person,
                    phone_hash=phone_hash,
                    reason_kind="single",
                    reason="resolve",
                    origin="api",
                    linked_at=now,
                )
            )

    return call


@contextlib.contextmanager
def _on_cpu(cpu: int) -> Iterator[None]:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# --- one backend --------------------------------------------------------------------------------


def _bench_backend(name: str, url: str | None) -> Backend:
    with tempfile.TemporaryDirectory(prefix="nr-resolve-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, database_url=None if url is None else SecretStr(url))
        engine = make_engine(database_url(settings))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWRETAIL_")}
        env["NEWRETAIL_HOME"] = str(home)
        if url is not None:
            env["NEWRETAIL_DATABASE_URL"] = url
        try:
            upgrade(engine)
            protector = PiiProtector.from_settings(settings)
            print(f"{name}: loading {MEMBERS:,} members", flush=True)
            loader = _loader(engine)
            try:
                load_s = _load(loader, protector)
            finally:
                if loader is not engine:
                    loader.dispose()
            key = _admin_key(engine)
            http: dict[str, list[Run]] = {LOAD.name: [], SERIAL.name: []}
            log = home / "server.log"
            serve = [*pinned(0), *SERVE]
            with running(serve, env, log, startup_s=60, stop_s=120) as server:
                # Run tags 1-3 under load, 4-6 serial: new phones and keys never repeat.
                for tag, case in enumerate([LOAD] * RUNS + [SERIAL] * RUNS, start=1):
                    result = _wrk(server.url, case, key=key, run=tag)
                    print(
                        f"{name} http {case.name}: {result.requests_per_s:,.0f} req/s p50 "
                        f"{result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms, {result.statuses}",
                        flush=True,
                    )
                    http[case.name].append(result)
            provisional = _provisional(engine)
            failed, exceptions = _exceptions(log)
            loops: dict[str, list[Run]] = {"service": [], "bare": []}
            with _on_cpu(0):
                for run in range(1, RUNS + 1):
                    for offset, (loop, make) in enumerate(
                        (("service", _service_call), ("bare", _bare_call))
                    ):
                        result = _timed(make(engine, protector), tag=run * 2 + offset)
                        print(
                            f"{name} {loop} loop: {result.requests_per_s:,.0f} calls/s p50 "
                            f"{result.p50_ms:.2f} ms p99 {result.p99_ms:.2f} ms",
                            flush=True,
                        )
                        loops[loop].append(result)
        finally:
            engine.dispose()
    return Backend(
        name, load_s, http, loops["service"], loops["bare"], provisional, failed, exceptions
    )


def _exceptions(log: Path) -> tuple[int, list[str]]:
    """How many requests the server logged as failed, and each distinct exception that ended a
    traceback in its output (``sqlite3.OperationalError: database is locked``) with the last
    frame in newretail it passed through."""
    lines = log.read_text(errors="replace").splitlines()
    failed = sum("Exception in ASGI application" in line for line in lines)
    seen: set[str] = set()
    ours = "none"
    for before, line in itertools.pairwise(lines):
        frame = re.search(r'newretail/(\S+)", line \d+, in (\w+)', before)
        if frame:
            ours = f"{frame[1]} {frame[2]}"
        if before.startswith(" ") and re.match(r"^[\w.]+(Error|Exception)\b", line):
            seen.add(f"{line.strip()[:120]} (last frame of ours: {ours})")
            ours = "none"
    return failed, sorted(seen)


# --- the report ---------------------------------------------------------------------------------


def _median(runs: list[Run]) -> Run:
    statuses: Counter[str] = Counter()
    for run in runs:
        statuses.update(run.statuses)
    return Run(
        requests_per_s=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        non2xx=sum(r.non2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        statuses=dict(statuses),
        errors=sorted({e for r in runs for e in r.errors}),
    )


def _rows(backend: Backend) -> list[str]:
    rows = []
    for case in (LOAD, SERIAL):
        runs = backend.http[case.name]
        m = _median(runs)
        rows.append(
            f"| {backend.name} | HTTP, wrk {case.threads} thread(s) × {case.connections} "
            f"connection(s) (runs: {_spread(runs)} req/s) | {m.requests_per_s:,.0f} "
            f"| {m.p50_ms:.1f} | {m.p99_ms:.1f} | {m.non2xx:,} of {m.requests:,}"
            f"{_socket(m.socket_errors)} |"
        )
    for label, runs in (
        ("in-process loop: `resolve()` in its own transaction", backend.service),
        ("in-process loop: bare SQLAlchemy lookup (+ insert on a miss)", backend.bare),
    ):
        m = _median(runs)
        rows.append(
            f"| {backend.name} | {label} | {m.requests_per_s:,.0f} | {m.p50_ms:.2f} "
            f"| {m.p99_ms:.2f} | |"
        )
    every = _median([r for runs in backend.http.values() for r in runs])
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(every.statuses.items()))
    created = every.statuses.get("201", 0)
    in_flight = RUNS * (LOAD.connections + SERIAL.connections)
    extra = backend.provisional - created
    check = (
        f"{extra:,} more than the 201s wrk counted: calls still in flight when wrk stopped"
        if 0 <= extra <= in_flight
        else "MISMATCH with the 201s wrk counted"
    )
    rows.append(
        f"| {backend.name} | all {2 * RUNS} HTTP runs: {statuses}; {backend.provisional:,} "
        f"provisional persons in the database ({check}); bulk load of {MEMBERS:,} persons + "
        f"{3 * MEMBERS:,} links: {backend.load_s:.0f} s | | | | |"
    )
    return rows


def _socket(errors: int) -> str:
    return f" ({errors:,} socket error{'' if errors == 1 else 's'})" if errors else ""


def _spread(runs: list[Run]) -> str:
    rates = [r.requests_per_s for r in runs]
    return f"{min(rates):,.0f}–{max(rates):,.0f}"


def _verdict(backend: Backend) -> str:
    m = _median(backend.http[LOAD.name])
    met = m.p99_ms < 50 and m.non2xx == 0
    return (
        f"{backend.name} p99 {m.p99_ms:.0f} ms at {m.requests_per_s:,.0f} req/s, "
        f"{'met' if met else 'MISSED'}"
    )


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    began = os.getloadavg()[0]
    backends = [_bench_backend("sqlite", None)]
    with postgres_schema("bench_resolve") as url:
        if url is not None:
            backends.append(_bench_backend("postgresql", url))
    ended = os.getloadavg()[0]
    rows = [row for backend in backends for row in _rows(backend)]
    errors = sorted(
        {e for b in backends for runs in b.http.values() for r in runs for e in r.errors}
    )
    seen = ["", "First error body of each wrk thread: " + "; ".join(f"`{e}`" for e in errors)]
    body = "\n".join(
        [
            "## Real-time identity resolve under load (bench/identity_resolve.py)",
            "",
            f"Machine: {machine()}. 1-minute load average {began:.1f} when the run began and "
            f"{ended:.1f} when it ended (2 vCPUs: above 2, other work shared the CPUs).",
            f"Data: {MEMBERS:,} persons and {3 * MEMBERS:,} identity_links (an app uid, a POS card "
            "and a mini-program openid per person, each carrying the person's phone hash), bulk "
            "loaded with `upsert_rows`, then `ANALYZE`.",
            "`newretail serve` (1 worker, uvloop + httptools) pinned to CPU 0, wrk pinned to "
            f"CPU 1: {LOAD.threads} threads × {LOAD.connections} connections for {LOAD.seconds} s, "
            f"then 1 connection for {SERIAL.seconds} s; median of {RUNS} runs each. Mix "
            "(bench/wrk/resolve.lua): 90% a known phone, 5% a known app uid, 5% a new phone "
            "(201, a provisional person); every call with a user API key (Bearer) and its own "
            "Idempotency-Key, so each request authenticates, claims and completes an idempotency "
            "record, and resolves. The loops run the same mix in one Python process pinned to "
            f"CPU 0 with no server up, {LOOP_S} s per run, median of {RUNS}: they show what HTTP, "
            "FastAPI, authentication and the idempotency record add.",
            f"wrk is closed-loop: {LOAD.connections} connections keep the one worker saturated, "
            f"so latency under load is mostly queueing (mean ≈ {LOAD.connections} ÷ requests/s); "
            "the 1-connection rows give the time of one call.",
            "Target: p50 and p99 under load (issue 4 sets no number; the platform's API budget is "
            "p99 < 50 ms at the measured rate).",
            "",
            "| backend | how | requests/s | p50 ms | p99 ms | non-2xx |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            f"Against the budget ({LOAD.connections} connections): "
            + "; ".join(_verdict(b) for b in backends)
            + ".",
            *(seen if errors else []),
            *(
                f"The {b.name} server logged {b.failed:,} failed requests; its exceptions: "
                + "; ".join(f"`{line}`" for line in b.exceptions)
                for b in backends
                if b.exceptions
            ),
        ]
    )
    print(body)
    update_section("identity_resolve", body)


if __name__ == "__main__":
    main()
