"""Checkout under load: ``POST /api/v1/orders`` on PostgreSQL, each order with a coupon, points earned
and the wallet paying, with wrk in a second process.

Not a test. In a fresh schema of the ``test`` database at 127.0.0.1:5432 (dropped afterwards) it
seeds, through the domain functions: a small catalogue (4 coffees in M and L, 3 food items, 20
stores in CNY), the demo schemes and coupon templates, MEMBERS persons with an app account each as
OneID's batch leaves them (bulk rows: OneID has no per-person function for that), each enrolled in
the Coffee Club, with a wallet top-up (CNY 500 + the scheme's bonus) and COUPONS of the CNY 10 off 30
template, and a channel user's API key. ``newretail serve`` runs with 1 and with 2 workers (Redis
database 11 for the second, as serve requires; flushed before and after); for each, after a
warm-up, wrk runs 3 times for 20 s with 2 threads and 32 connections, then once with 1 connection
(the time of one call). bench/wrk/checkout.lua makes every request unique: its own client order id
and Idempotency-Key, a member, and one of that member's coupons never used before. With 1 worker,
py-spy (when installed, or given with --py-spy) samples the server through one more run.

Beside it, the obvious way: the same checkout as one plain SQL transaction per order (psycopg, 32
threads in a second process, no HTTP): see :func:`_obvious_order`. Afterwards the run is checked:
every 201 is one order in OLTP, no coupon redeemed twice, no wallet balance or entry below 0, and
``loyalty.reconcile`` reports no difference. Writes the ``checkout`` section of bench/RESULTS.md.
Run: ``.venv/bin/python bench/checkout.py`` (needs wrk, PostgreSQL and Redis; about 15 minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
from sqlalchemy import Engine, func, insert, select, text

from newretail.loyalty.coupon_issue import issue
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import TEN_OFF_TEMPLATE, ensure_demo_schemes
from newretail.loyalty.earning import topup_bonus
from newretail.loyalty.memberships import enrol
from newretail.loyalty.reconcile import reconcile
from newretail.loyalty.schemes import get_scheme
from newretail.loyalty.wallet import top_up
from newretail.oltp import make_engine, upgrade
from newretail.oltp.bulk import upsert_rows
from newretail.oltp.tables import (
    catalogue_prices,
    catalogue_products,
    catalogue_stores,
    coupon_events,
    identity_links,
    identity_persons,
    loyalty_accounts,
    loyalty_entries,
    order_discounts,
    orders,
    trade_outbox,
)
from newretail.security import Principal, create_user, create_user_key, generate_password
from newretail.trade.catalogue import sizes_of
from results import machine, update_section
from serve import (
    SERVE,
    cpu_seconds,
    family,
    machine_busy,
    named,
    postgres_schema,
    running,
)

SCRIPT = Path(__file__).with_name("wrk") / "checkout.lua"
REDIS = "redis://127.0.0.1:6379/11"
SCHEME = "coffee_club"
TEMPLATE = TEN_OFF_TEMPLATE  # CNY 10 off a basket of 30 or more; no per-person limit
MEMBERS = 20_000
COUPONS = 10  # per member: 200,000 orders' worth, more than all the runs take
TOPUP_MINOR = 50_000
THREADS = 2
CONNECTIONS = 32
SECONDS = 20
SERIAL_SECONDS = 10
WARMUP_SECONDS = 5
RUNS = 3
WORKERS = (1, 2)
TARGET_RATE = 1_000
TARGET_P99_MS = 100
ACTOR = "bench"

# The menu the Lua script orders from: (id, name, category, CNY price in fen).
PRODUCTS = (
    ("C001", "Latte", "coffee", 2_800),
    ("C002", "Americano", "coffee", 2_400),
    ("C003", "Flat white", "coffee", 3_000),
    ("C004", "Mocha", "coffee", 3_200),
    ("F001", "Croissant", "food", 1_500),
    ("F002", "Chicken sandwich", "food", 2_600),
    ("F003", "Cheesecake", "food", 2_200),
)
STORES = 20


@dataclass
class Run:
    orders_per_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    codes: dict[str, int]
    socket_errors: int
    cpu: dict[str, float]  # cores used on average: server, PostgreSQL, load generator, other work
    errors: list[str] = field(default_factory=list)
    handed: int = 0  # slots taken, to start the next run after them
    no_coupon: int = 0
    placed: list[str] = field(default_factory=list)  # the obvious way's orders, as committed


# --- seeding --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    key: str
    plan: Path
    seconds: dict[str, float]
    coupons: int


def _seed(engine: Engine, work: Path) -> Seeded:
    now = dt.datetime.now(dt.UTC)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    upgrade(engine)
    with engine.begin() as conn:
        _catalogue(conn)
        ensure_demo_schemes(conn, now=now)
        ensure_demo_templates(conn, now=now)
        create_user(
            conn,
            actor=Principal.cli(),
            email="checkout@bench.test",
            role="channel",
            password=generate_password(),
            now=now,
        )
        key = create_user_key(conn, actor=Principal.cli(), email="checkout@bench.test", now=now)
    persons = [f"B{i:011d}" for i in range(MEMBERS)]
    _persons(engine, persons, now)
    seconds["persons"] = time.monotonic() - started
    started = time.monotonic()
    _members(engine, persons)
    seconds["members"] = time.monotonic() - started
    started = time.monotonic()
    codes: list[list[str]] = []
    for round_ in range(COUPONS):
        with engine.begin() as conn:
            result = issue(
                conn,
                TEMPLATE,
                persons,
                issue_key=f"bench:{round_}",
                actor=ACTOR,
                now=dt.datetime.now(dt.UTC),
            )
        if result.issued != MEMBERS:
            raise SystemExit(f"issued {result.issued} of {MEMBERS} coupons: {result}")
        codes.append(result.coupon_ids)
    seconds["coupons"] = time.monotonic() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    plan = work / "plan.txt"
    with plan.open("w") as out:
        for i in range(MEMBERS):
            out.write(" ".join([_uid(i), *(codes[r][i] for r in range(COUPONS))]) + "\n")
    return Seeded(key.key, plan, seconds, MEMBERS * COUPONS)


def _uid(i: int) -> str:
    return f"U{i:09d}"


def _catalogue(conn: Any) -> None:
    """Catalogue rows as ``trade.catalogue.sync_catalogue`` leaves them (it reads a built lake)."""
    conn.execute(
        insert(catalogue_products),
        [
            {
                "product_id": pid,
                "name": name,
                "name_en": name,
                "category": category,
                "subcategory": None,
                "sizes": sizes_of(category),
                "on_sale": True,
            }
            for pid, name, category, _ in PRODUCTS
        ],
    )
    conn.execute(
        insert(catalogue_prices),
        [
            {"product_id": pid, "currency": "CNY", "price_minor": price}
            for pid, _, _, price in PRODUCTS
        ],
    )
    conn.execute(
        insert(catalogue_stores),
        [
            {
                "store_id": f"S{n:04d}",
                "name": f"Store {n}",
                "city": "Shanghai",
                "currency": "CNY",
                "timezone": "Asia/Shanghai",
                "open": True,
            }
            for n in range(1, STORES + 1)
        ],
    )


def _persons(engine: Engine, persons: list[str], now: dt.datetime) -> None:
    """Persons and their app accounts, as OneID's batch run leaves them (bulk rows)."""
    n = len(persons)
    stamp = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
    with engine.begin() as conn:
        upsert_rows(
            conn,
            identity_persons,
            pa.table(
                {
                    "person_id": persons,
                    "status": ["active"] * n,
                    "origin": ["batch"] * n,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            ),
            ["person_id"],
        )
        upsert_rows(
            conn,
            identity_links,
            pa.table(
                {
                    "source": ["app"] * n,
                    "source_record_id": [_uid(i) for i in range(n)],
                    "person_id": persons,
                    "reason_kind": ["single"] * n,
                    "reason": ["app account"] * n,
                    "origin": ["lake"] * n,
                    "linked_at": stamp,
                }
            ),
            ["source", "source_record_id"],
        )


def _members(engine: Engine, persons: list[str]) -> None:
    """Enrol each person through the app and top the wallet up, 500 members per transaction, in
    3 threads (the database work overlaps; the Python work shares the GIL)."""
    with engine.connect() as conn:
        scheme = get_scheme(conn, SCHEME)
    bonus = topup_bonus(scheme, TOPUP_MINOR)
    chunks = [persons[i : i + 500] for i in range(0, len(persons), 500)]
    done = Counter[str]()
    lock = threading.Lock()

    def load(chunk: list[str]) -> None:
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            for person in chunk:
                membership = enrol(conn, SCHEME, person, channel="app", actor=ACTOR, now=now)
                top_up(
                    conn,
                    membership.id,
                    TOPUP_MINOR,
                    bonus_minor=bonus,
                    currency="CNY",
                    natural_key=f"bench-topup:{person}",
                    payment_method="wechat_pay",
                    actor=ACTOR,
                    now=now,
                )
        with lock:
            done["members"] += len(chunk)
            if done["members"] % 5_000 == 0:
                print(f"  enrolled and topped up {done['members']:,} members", flush=True)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(load, chunks))


# --- measuring ------------------------------------------------------------------------------------


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process, by pid."""
    return {pid: cpu_seconds([pid]) for pid in named("postgres")}


def _ours(clients: list[int]) -> set[int]:
    """The PostgreSQL processes working for ``clients``: the backends serving their connections
    (matched by the client's port in the backend's title) and the server's own helpers (WAL
    writer, checkpointer, ...), which every commit keeps busy."""
    ports: set[int] = set()
    for pid in clients:
        with contextlib.suppress(psutil.Error):
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == 5432:
                    ports.add(conn.laddr.port)
    ours: set[int] = set()
    for pid in named("postgres"):
        with contextlib.suppress(psutil.Error):
            title = " ".join(psutil.Process(pid).cmdline())
            port = re.search(r"\(([0-9]+)\)", title)
            if port is None or int(port.group(1)) in ports:
                ours.add(pid)
    return ours


class CpuMeter:
    """Cores used between start and stop by the server (process tree), the PostgreSQL processes
    working for the server or the load generator, the load generator, and everything else."""

    def __init__(self, server: list[int], generator: int) -> None:
        self.server, self.generator = server, generator
        self.busy = machine_busy()
        self.server_cpu = cpu_seconds(server)
        self.postgres = _postgres_cpu()
        self.started = time.monotonic()
        self.generator_cpu = 0.0
        self.ours: dict[int, float] = {}  # our PostgreSQL processes: CPU seconds when last seen

    def sample(self) -> None:
        """Called while the load runs: processes that end before :meth:`stop` (the load
        generator, the backends of its connections) count with what they had used when last seen."""
        self.generator_cpu = cpu_seconds([self.generator]) or self.generator_cpu
        clients = [self.generator, *self.server, *(family(self.server[0]) if self.server else [])]
        for pid in _ours(clients) | set(self.ours):
            self.ours[pid] = cpu_seconds([pid]) or self.ours.get(pid, 0.0)

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.started
        after = _postgres_cpu()
        postgres = sum(
            (after.get(pid) or seen) - self.postgres.get(pid, 0.0)
            for pid, seen in self.ours.items()
        )
        cores = {
            "server": (cpu_seconds(self.server) - self.server_cpu) / elapsed,
            "postgres": postgres / elapsed,
            "load": self.generator_cpu / elapsed,
        }
        busy = (machine_busy() - self.busy) / elapsed
        return cores | {"other work": max(0.0, busy - sum(cores.values()))}


def _meter(proc: subprocess.Popen[str], meter: CpuMeter) -> dict[str, float]:
    """Sample ``meter`` every half second until ``proc`` (the load) ends; cores used."""
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            meter.sample()
        time.sleep(0.5)
    return meter.stop()


def _wrk(
    url: str,
    server: int,
    *,
    key: str,
    plan: Path,
    tag: int,
    first: int,
    seconds: int,
    connections: int,
    threads: int,
    ok_file: Path,
) -> Run:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
        "-s", str(SCRIPT), url, "--", f"Bearer {key}", str(plan), str(tag), str(first),
        str(threads), str(ok_file),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    cpu = _meter(proc, CpuMeter(family(server), proc.pid))
    out = proc.communicate()[0]
    stats = json.loads(out.strip().splitlines()[-1])
    duration = stats["duration_us"] / 1e6
    statuses = {str(k): v for k, v in stats["statuses"].items()}
    return Run(
        orders_per_s=statuses.get("201", 0) / duration,
        requests_per_s=stats["requests"] / duration,
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        statuses=statuses,
        codes=stats["codes"],
        socket_errors=stats["socket_errors"],
        cpu=cpu,
        errors=stats["first_errors"],
        handed=stats["handed"] * threads,
        no_coupon=stats["no_coupon"],
    )


def _median(runs: list[Run]) -> Run:
    middle = sorted(runs, key=lambda r: r.orders_per_s)[len(runs) // 2]
    statuses: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for run in runs:
        statuses.update(run.statuses)
        codes.update(run.codes)
    return Run(
        orders_per_s=statistics.median(r.orders_per_s for r in runs),
        requests_per_s=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        statuses=dict(statuses),
        codes=dict(codes),
        socket_errors=sum(r.socket_errors for r in runs),
        cpu={k: statistics.median(r.cpu[k] for r in runs) for k in middle.cpu},
        errors=sorted({e for r in runs for e in r.errors}),
        no_coupon=sum(r.no_coupon for r in runs),
    )


@dataclass
class Served:
    workers: int
    runs: list[Run]
    serial: Run
    profile: Profiles | None = None
    profiled: Run | None = None


class Slots:
    """The next unused slot of the plan (see bench/wrk/checkout.lua), across runs."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, run: Run) -> None:
        self.next += run.handed


def _serve(
    workers: int,
    env: dict[str, str],
    work: Path,
    seeded: Seeded,
    slots: Slots,
    tags: Iterator[int],
    py_spy: str | None,
) -> Served:
    somaxconn = Path("/proc/sys/net/core/somaxconn").read_text().strip()
    command = [*SERVE, "--workers", str(workers), "--backlog", somaxconn]
    ok_file = work / "created"

    def load(server: Any, seconds: int, connections: int, threads: int = THREADS) -> Run:
        run = _wrk(
            server.url,
            server.pid,
            key=seeded.key,
            plan=seeded.plan,
            tag=next(tags),
            first=slots.next,
            seconds=seconds,
            connections=connections,
            threads=threads,
            ok_file=ok_file,
        )
        slots.take(run)
        return run

    with running(command, env, work / f"serve-{workers}.log", settle_s=2) as server:
        load(server, WARMUP_SECONDS, CONNECTIONS)
        runs = []
        for _ in range(RUNS):
            run = load(server, SECONDS, CONNECTIONS)
            _print(f"{workers} worker(s), {CONNECTIONS} connections", run)
            runs.append(run)
            time.sleep(2)
        serial = load(server, SERIAL_SECONDS, 1, threads=1)
        _print(f"{workers} worker(s), 1 connection", serial)
        served = Served(workers, runs, serial)
        if py_spy and workers == 1:
            served.profile, served.profiled = _profile(py_spy, server, work, load)
    return served


def _print(label: str, run: Run) -> None:
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in run.cpu.items())
    print(
        f"{label}: {run.orders_per_s:,.0f} orders/s p50 {run.p50_ms:.1f} ms p99 "
        f"{run.p99_ms:.1f} ms {run.statuses} {run.codes} cpu {cpu}",
        flush=True,
    )


# --- the profile ----------------------------------------------------------------------------------


def _profile(py_spy: str, server: Any, work: Path, load: Any) -> tuple[Profiles, Run]:
    """Sample the one worker with py-spy through two more runs: every thread (where a request's
    time goes, waits included), then only the thread holding the GIL (where the CPU goes: one
    worker runs Python on one core at a time)."""
    found: dict[str, Profile | None] = {}
    runs = []
    for mode in ("wall", "gil"):
        out = work / f"profile-{mode}.txt"
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.pid), "--duration", str(SECONDS + 2),
             "--rate", "200", "--format", "raw", "--nonblocking", "--output", str(out),
             *(["--gil"] if mode == "gil" else ["--idle"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(1)
        run = load(server, SECONDS, CONNECTIONS)
        _print(f"1 worker under py-spy ({mode})", run)
        runs.append(run)
        spy.wait(timeout=120)
        if out.exists():  # kept for a closer look (py-spy's raw format feeds flame graphs)
            kept = Path(tempfile.gettempdir()) / f"checkout-profile-{mode}.txt"
            shutil.copy(out, kept)
            print(f"py-spy's samples: {kept}", flush=True)
        found[mode] = _hot_spots(out, requests_only=mode == "wall")
    return Profiles(found["wall"], found["gil"]), _median(runs)


# What a sample belongs to, by the innermost of our modules on its stack (first match wins).
_BUCKETS = (
    ("trade/outbox.py", "trade.outbox.enqueue_order"),
    ("trade/relay.py", "the outbox relay thread"),
    ("api/trade_relay.py", "the outbox relay thread"),
    ("loyalty/coupons.py", "loyalty.coupons (coupons_for_checkout, redeem)"),
    ("loyalty/wallet.py", "loyalty.wallet.pay"),
    ("loyalty/points.py", "loyalty.points.earn"),
    ("loyalty/lots.py", "loyalty.points.earn"),
    ("loyalty/ledger.py", "loyalty.ledger (for wallet.pay and points.earn)"),
    ("loyalty/memberships.py", "loyalty.memberships (resolve_person, membership_of)"),
    ("identity/", "loyalty.memberships (resolve_person, membership_of)"),
    ("loyalty/schemes.py", "loyalty.schemes.list_schemes"),
    ("trade/catalogue.py", "trade.catalogue (store_info, items_for)"),
    ("trade/pricing.py", "trade.pricing.price"),
    ("trade/order_views.py", "trade.order_views.get_order (the response)"),
    ("trade/orders.py", "trade.orders.place (its own statements)"),
    ("trade/checkout.py", "trade.checkout.priced_basket (its own statements)"),
    ("api/idempotency.py", "the idempotency record (claim, encrypt, store)"),
    ("oltp/idempotency.py", "the idempotency record (claim, encrypt, store)"),
    ("security/", "authentication (the API key checked in the database)"),
    ("api/deps.py", "api.deps (taking a pooled connection, BEGIN, COMMIT)"),
    ("api/routers/orders.py", "the order route (response model)"),
)
# The request path: the thread-pool threads running the order route and its dependencies.
_REQUEST = ("newretail/api/routers/orders.py", "newretail/api/deps.py")


@dataclass(frozen=True)
class Profile:
    samples: int
    by_module: list[tuple[str, float]]  # shares of the samples counted
    by_leaf: list[tuple[str, float]]  # the same, by what the sampled frame itself was


@dataclass(frozen=True)
class Profiles:
    wall: Profile | None  # the request path's threads, waits included
    gil: Profile | None  # whichever thread held the GIL


def _hot_spots(path: Path, *, requests_only: bool) -> Profile | None:
    """py-spy's raw output (``frame;frame;... count`` per stack) summed two ways: by the innermost
    of our modules on the stack (:data:`_BUCKETS`), and by what the sampled frame was."""
    if not path.exists():
        return None
    modules: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or (requests_only and not any(r in stack for r in _REQUEST)):
            continue
        samples = int(number)
        total += samples
        frames = stack.split(";")
        modules[_bucket(frames)] += samples
        leaves[_leaf(frames)] += samples
    if not total:
        return None
    return Profile(
        total,
        [(where, n / total) for where, n in modules.most_common()],
        [(where, n / total) for where, n in leaves.most_common()],
    )


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):
        for needle, label in _BUCKETS:
            if f"newretail/{needle}" in frame:
                return label
    joined = ";".join(frames)
    if "newretail/" in joined:
        return "newretail's background threads"
    if any(name in joined for name in ("uvicorn", "starlette", "fastapi", "anyio")):
        return "HTTP and the event loop (uvicorn, Starlette, FastAPI, anyio)"
    return "other"


def _leaf(frames: list[str]) -> str:
    """What a sampled frame was doing: waiting (for PostgreSQL, for a pooled connection), or
    running in which package."""
    leaf, joined = frames[-1], ";".join(frames)
    if leaf.startswith(("Connection.wait", "wait_conn", "wait_c ")):
        return "waiting for PostgreSQL"
    if "sqlalchemy/pool/" in joined and leaf.startswith("Condition.wait"):
        return "waiting for a pooled connection"
    found = re.search(r"\(([^()]+?):[0-9]+\)$", leaf)
    where = (found.group(1) if found else leaf).split("site-packages/")[-1]
    if "/" in where:
        return where.split("/")[0]
    return f"stdlib {where.removesuffix('.py')}"


# --- the obvious way ------------------------------------------------------------------------------

OBVIOUS = Path(__file__).with_name("checkout_obvious.py")
OBVIOUS_THREADS = CONNECTIONS


def _obvious(url: str, plan: Path, slots: Slots, tag: int, seconds: int) -> Run:
    """One run of the plain-SQL checkout (bench/checkout_obvious.py) in a second process."""
    arguments = {
        "url": url,
        "plan": str(plan),
        "first": slots.next,
        "tag": tag,
        "seconds": seconds,
        "threads": OBVIOUS_THREADS,
        "out": str(out := plan.with_name(f"obvious-{tag}.json")),
    }
    command = [sys.executable, str(OBVIOUS), json.dumps(arguments)]
    proc = subprocess.Popen(command, text=True)
    cpu = _meter(proc, CpuMeter([], proc.pid))
    del cpu["server"]  # there is none: the script is server and load generator at once
    if proc.returncode:
        raise RuntimeError(f"bench/checkout_obvious.py failed ({proc.returncode})")
    stats = json.loads(out.read_text())
    slots.next += stats["handed"]
    return Run(
        orders_per_s=stats["ok"] / stats["seconds"],
        requests_per_s=stats["done"] / stats["seconds"],
        p50_ms=stats["p50_ms"],
        p99_ms=stats["p99_ms"],
        statuses={"201": stats["ok"]},
        codes=stats["codes"],
        socket_errors=0,
        cpu=cpu,
        errors=stats["errors"],
        placed=stats["placed"],
    )


# --- checking the outcome -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    created: int  # 201s the load generators saw
    orders: int  # orders in OLTP
    missing: int  # 201s with no order: must be 0
    unseen: int  # orders whose 201 no one read: in flight when a run stopped
    coupons_twice: int
    negative_wallets: int
    negative_entries: int
    wallet_paid: int
    wallet_entries: int
    relayed: int
    reconcile_ok: bool
    reconcile_summary: str
    differences: list[str]


def _check(engine: Engine, created: set[str]) -> Checked:
    with engine.connect() as conn:
        in_oltp = set(conn.scalars(select(orders.c.client_order_id)))
        twice = (
            conn.scalar(
                select(func.count()).select_from(
                    select(coupon_events.c.coupon_id)
                    .where(coupon_events.c.kind == "redeemed")
                    .group_by(coupon_events.c.coupon_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            or 0
        )
        twice += (
            conn.scalar(
                select(func.count()).select_from(
                    select(order_discounts.c.coupon_id)
                    .where(order_discounts.c.coupon_id.is_not(None))
                    .group_by(order_discounts.c.coupon_id)
                    .having(func.count(func.distinct(order_discounts.c.order_id)) > 1)
                    .subquery()
                )
            )
            or 0
        )
        wallets = loyalty_accounts.c.kind.in_(["wallet", "wallet_bonus"])
        negative = (
            conn.scalar(select(func.count()).where(wallets, loyalty_accounts.c.balance < 0)) or 0
        )
        negative_entries = (
            conn.scalar(
                select(func.count())
                .select_from(loyalty_entries.join(loyalty_accounts))
                .where(wallets, loyalty_entries.c.balance_after < 0)
            )
            or 0
        )
        paid = conn.scalar(select(func.coalesce(func.sum(orders.c.wallet_minor), 0))) or 0
        entries = (
            conn.scalar(
                select(func.coalesce(func.sum(loyalty_entries.c.amount), 0)).where(
                    loyalty_entries.c.kind == "pay"
                )
            )
            or 0
        )
        relayed = (
            conn.scalar(select(func.count()).where(trade_outbox.c.relayed_at.is_not(None))) or 0
        )
        started = time.monotonic()
        report = reconcile(conn)
        took = time.monotonic() - started
    summary = (
        f"{report.accounts:,} accounts, {report.entries:,} entries, {report.lots:,} lots, "
        f"{report.coupons:,} coupons checked in {took:.1f} s: "
        f"{len(report.differences)} differences"
    )
    print(f"reconcile: {summary}", flush=True)
    return Checked(
        created=len(created),
        orders=len(in_oltp),
        missing=len(created - in_oltp),
        unseen=len(in_oltp - created),
        coupons_twice=int(twice),
        negative_wallets=int(negative),
        negative_entries=int(negative_entries),
        wallet_paid=int(paid),
        wallet_entries=-int(entries),
        relayed=int(relayed),
        reconcile_ok=report.ok,
        reconcile_summary=summary,
        differences=[
            f"{d.kind} {d.subject}: expected {d.expected}, found {d.actual}"
            for d in report.differences[:5]
        ],
    )


# --- the report -----------------------------------------------------------------------------------


def _row(label: str, run: Run) -> str:
    cpu = " + ".join(f"{name} {cores:.2f}" for name, cores in run.cpu.items())
    refused = ", ".join(f"{c}: {n:,}" for c, n in sorted(run.codes.items())) or "none"
    return (
        f"| {label} | {run.orders_per_s:,.0f} | {run.p50_ms:.1f} | {run.p99_ms:.1f} "
        f"| {refused}{_socket(run.socket_errors)} | {cpu} |"
    )


def _socket(errors: int) -> str:
    return f"; {errors:,} socket errors" if errors else ""


def _spread(runs: list[Run]) -> str:
    rates = [r.orders_per_s for r in runs]
    return f"{min(rates):,.0f}–{max(rates):,.0f}"


def _write(
    served: list[Served],
    obvious: list[Run],
    checked: Checked,
    seeded: Seeded,
    began: float,
    ended: float,
    *,
    smoke: bool,
) -> None:
    best = max(served, key=lambda s: _median(s.runs).orders_per_s)
    top = _median(best.runs)
    met = top.orders_per_s >= TARGET_RATE and top.p99_ms < TARGET_P99_MS
    rows = []
    for s in served:
        rows.append(
            _row(
                f"`serve --workers {s.workers}`, {CONNECTIONS} connections (runs: "
                f"{_spread(s.runs)}/s)",
                _median(s.runs),
            )
        )
        rows.append(_row(f"`serve --workers {s.workers}`, 1 connection", s.serial))
    if obvious:
        rows.append(
            _row(
                f"the obvious way: plain SQL, {OBVIOUS_THREADS} threads, no HTTP (runs: "
                f"{_spread(obvious)}/s)",
                _median(obvious),
            )
        )
    per_order_ms = 1000 * (top.cpu["server"] + top.cpu["postgres"]) / max(top.orders_per_s, 1)
    profile = next((s for s in served if s.profile), None)
    profile_lines = []
    if profile and profile.profile and profile.profiled:
        wall, gil = profile.profile.wall, profile.profile.gil
        profile_lines = [
            "",
            f"Where the one worker's time goes: py-spy at 200 samples/s through two more {SECONDS} "
            f"s runs ({profile.profiled.orders_per_s:,.0f} orders/s while sampled).",
        ]
        if wall:
            profile_lines.append(
                f"A request's time (the thread-pool threads in the order route, waits included; "
                f"{wall.samples:,} samples), by the innermost of our modules on the stack: "
                + "; ".join(f"{w} {share:.0%}" for w, share in wall.by_module[:12])
                + ". By what the sampled frame was: "
                + "; ".join(f"{w} {share:.0%}" for w, share in wall.by_leaf[:8])
                + "."
            )
        if gil:
            profile_lines.append(
                f"The CPU (only the thread holding the GIL; {gil.samples:,} samples), by module: "
                + "; ".join(f"{w} {share:.0%}" for w, share in gil.by_module[:12])
                + ". By package: "
                + "; ".join(f"{w} {share:.0%}" for w, share in gil.by_leaf[:8])
                + "."
            )
    body = "\n".join(
        [
            "## Checkout under load (bench/checkout.py)",
            "",
            f"Machine: {machine()}, PostgreSQL {_postgres_version()} on the same machine. "
            f"1-minute load average {began:.1f} when the run began and {ended:.1f} when it ended "
            "(2 vCPUs: above 2, other work shared the CPUs).",
            f"Data: {MEMBERS:,} members (OneID persons with an app account each), each enrolled in "
            f"the Coffee Club with CNY {TOPUP_MINOR // 100} topped up (+ bonus) and {COUPONS} "
            f"coupons of `{TEMPLATE}` ({seeded.coupons:,} coupons), {len(PRODUCTS)} products, "
            f"{STORES} stores; seeded through the domain functions in "
            + ", ".join(f"{k} {v:.0f} s" for k, v in seeded.seconds.items())
            + ". Each order: a coffee (M or L) and a food item at a random store, paid from the "
            "wallet, with one of the member's unused coupons, earning points; `POST /api/v1/orders` "
            "with a channel's API key and its own Idempotency-Key and client order id "
            "(bench/wrk/checkout.lua). The outbox relay runs in the server.",
            f"wrk in a second process, {THREADS} threads × {CONNECTIONS} connections for {SECONDS} "
            f"s after a {WARMUP_SECONDS} s warm-up, median of {RUNS} runs; then 1 connection for "
            f"{SERIAL_SECONDS} s (the time of one order). Nothing pinned: server, PostgreSQL and "
            "wrk share both cores; CPU in cores used on average (PostgreSQL: the backends serving "
            "the run and the server's WAL writer and checkpointer).",
            "The obvious way, beside it: the same checkout as one plain SQL transaction per order "
            "from a Python script (psycopg, a connection per thread, no HTTP, no authentication), "
            "the same rows written (order, lines, pricing steps, coupon and its event, two wallet "
            "entries, points entry and lot, outbox row, idempotency record) but the pricing hard-"
            "coded to this basket and nothing checked that the seed makes true: the floor the "
            "database sets.",
            f"Target: ≥ {TARGET_RATE:,} orders/s with p99 < {TARGET_P99_MS} ms.",
            "",
            "| how | orders/s | p50 ms | p99 ms | refused | CPU (cores) |",
            "| --- | ---: | ---: | ---: | --- | --- |",
            *rows,
            "",
            f"Against the target: {top.orders_per_s:,.0f} orders/s at p99 {top.p99_ms:.0f} ms with "
            f"{best.workers} worker(s), {'met' if met else 'MISSED'}. Per order the server and "
            f"PostgreSQL used {per_order_ms:.1f} ms of CPU (server {top.cpu['server']:.2f} cores, "
            f"PostgreSQL {top.cpu['postgres']:.2f}, wrk {top.cpu['load']:.2f}): on 2 cores that "
            f"caps checkout near {2000 / per_order_ms:,.0f} orders/s whatever the concurrency.",
            f"Correctness after all runs: {checked.created:,} 201s, {checked.orders:,} orders in "
            f"OLTP, {checked.missing} 201s without their order, {checked.unseen:,} orders whose "
            f"201 wrk never read (in flight when a run stopped); coupons redeemed twice: "
            f"{checked.coupons_twice}; wallet balances below 0: {checked.negative_wallets}, "
            f"wallet entries leaving a balance below 0: {checked.negative_entries}; wallet paid "
            f"on orders {checked.wallet_paid:,} = wallet pay entries {checked.wallet_entries:,} "
            f"({'equal' if checked.wallet_paid == checked.wallet_entries else 'DIFFERENT'}); "
            f"{checked.relayed:,} orders relayed to the lake; `loyalty reconcile`: "
            f"{checked.reconcile_summary}"
            + (" — " + "; ".join(checked.differences) if checked.differences else "")
            + ".",
            *profile_lines,
        ]
    )
    print(body)
    if not smoke:
        update_section("checkout", body)


def _postgres_version() -> str:
    import psycopg

    from serve import POSTGRES

    with psycopg.connect(POSTGRES) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy to profile with")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run to try the script; RESULTS.md untouched"
    )
    args = parser.parse_args()
    if args.smoke:
        global MEMBERS, COUPONS, SECONDS, SERIAL_SECONDS, WARMUP_SECONDS, RUNS
        MEMBERS, COUPONS, SECONDS, SERIAL_SECONDS, WARMUP_SECONDS, RUNS = 1_000, 4, 3, 2, 1, 1
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    import redis

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65_536), hard))
    began = os.getloadavg()[0]
    redis.Redis.from_url(REDIS).flushdb()
    with (
        postgres_schema("bench_checkout") as url,
        tempfile.TemporaryDirectory(prefix="nr-checkout-") as tmp,
    ):
        if url is None:
            raise SystemExit("the checkout benchmark needs PostgreSQL")
        work = Path(tmp)
        engine = make_engine(url)
        try:
            print(f"seeding {MEMBERS:,} members", flush=True)
            seeded = _seed(engine, work)
            print(f"seeded: {seeded.seconds}", flush=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("NEWRETAIL_")}
            env |= {
                "NEWRETAIL_HOME": str(work / "home"),
                "NEWRETAIL_DATABASE_URL": url,
                "NEWRETAIL_REDIS_URL": REDIS,
            }
            slots, tags = Slots(), iter(range(1, 1_000))
            served = [
                _serve(workers, env, work, seeded, slots, tags, args.py_spy) for workers in WORKERS
            ]
            obvious = []
            for _ in range(RUNS):
                run = _obvious(url, seeded.plan, slots, next(tags), SECONDS)
                _print("the obvious way", run)
                obvious.append(run)
            print(f"slots used: {slots.next:,} of {seeded.coupons:,}", flush=True)
            created = {
                line
                for path in work.glob("created.*")
                for line in path.read_text().splitlines()
                if line
            }
            checked = _check(engine, created | {o for run in obvious for o in run.placed})
        finally:
            engine.dispose()
        ended = os.getloadavg()[0]
        _write(served, obvious, checked, seeded, began, ended, smoke=args.smoke)
    redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
