"""Tags and audiences at chain scale: the full tag refresh, the bitmap snapshot's size and load
time, the live count of a 10-condition audience through the HTTP API, the refresh of 1,000 saved
audiences, and the same audience as a DuckDB query over the wide tag table (the obvious way).

Not a test. Needs a home with a built lake resolved to persons (``--home``). Medians of ``--runs``
runs. Usage: ``python bench/tags.py --home DIR [--runs 3] [--label "10M members"]``. Writes the
``tags`` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import psutil
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from newretail.audience.expression import Expr
from newretail.audience.indexes import IndexHolder
from newretail.audience.printer import to_text
from newretail.audience.refresh import refresh_everything
from newretail.audience.saved import AudienceDraft, create_audience, live_audiences
from newretail.audience.service import compile_expression, refresh_saved, select
from newretail.audience.sql import to_sql
from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings, upgrade
from newretail.progress import SilentProgress
from newretail.security import Principal, create_user, create_user_key
from newretail.tags.compute import latest_refresh
from newretail.tags.index import TagIndex
from newretail.tags.snapshot import load_snapshot
from results import machine, update_section
from serve import running

NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
SAVED = 1_000
COUNT_REQUESTS = 600


def ten_conditions(index: TagIndex, rng: random.Random) -> str:
    """A marketer's 10-condition audience: enum, bool, number ranges and dates, mixed AND/OR/NOT,
    with thresholds from the tags' own quantiles so the answer is neither empty nor everyone."""
    conditions = random_conditions(index, rng, 10)
    return (
        f"({conditions[0]} OR {conditions[1]}) AND {conditions[2]} AND NOT ({conditions[3]})"
        f" AND ({conditions[4]} OR {conditions[5]} OR {conditions[6]})"
        f" AND {conditions[7]} AND ({conditions[8]} OR NOT {conditions[9]})"
    )


def random_conditions(index: TagIndex, rng: random.Random, n: int) -> list[str]:
    usable = [t for t in index.tag_ids if index.coverage(t) > 0.2]
    out: list[str] = []
    while len(out) < n:
        spec = index.spec(rng.choice(usable))
        found = index.distribution(spec.id)
        if spec.value_type == "bool":
            out.append(spec.id if rng.random() < 0.7 else f"NOT {spec.id}")
        elif spec.value_type == "enum":
            values = [v for v, c in found.counts.items() if c > 0]
            if not values:
                continue
            picked = rng.sample(values, k=min(len(values), rng.randint(1, 3)))
            quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in picked)
            out.append(f"{spec.id} IN ({quoted})")
        elif found.quantiles:
            q = found.quantiles[rng.choice(["p25", "p50", "p75"])]
            literal = f"DATE '{q}'" if isinstance(q, dt.date) else str(q)
            out.append(f"{spec.id} {rng.choice(['>=', '<=', '>'])} {literal}")
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def refresh_runs(settings: Settings, runs: int) -> list[dict[str, float]]:
    database = engine_from_settings(settings)
    upgrade(database)
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        report = refresh_everything(
            settings, database, as_of=None, progress=SilentProgress(), now=NOW
        )
        total = time.perf_counter() - started
        person = next(e for e in report.tags.entities if e.entity == "person")
        store = next(e for e in report.tags.entities if e.entity == "store")
        results.append(
            {
                "total": total,
                "person_compute": person.compute_seconds,
                "person_index": person.index_seconds,
                "store": store.compute_seconds + store.index_seconds,
                "rows": person.rows,
                "tags": person.tags + store.tags,
            }
        )
        print(f"refresh: {results[-1]}", flush=True)
    database.dispose()
    return results


def snapshot_figures(settings: Settings) -> dict[str, float]:
    folder = settings.index_dir / "person"
    current = int((folder / "CURRENT").read_text())
    version = folder / f"v{current:06d}"
    size = sum(f.stat().st_size for f in version.iterdir())
    loads, firsts = [], []
    for _ in range(5):
        started = time.perf_counter()
        index = load_snapshot(settings.index_dir, "person")
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        for tag in index.tag_ids:
            index.present(tag)
        firsts.append(time.perf_counter() - started)
    return {
        "bytes": size,
        "load_ms": median_ms(loads),
        "touch_all_s": statistics.median(firsts),
        "rss_gib": psutil.Process().memory_info().rss / 2**30,
    }


@contextlib.contextmanager
def server(home: Path) -> Iterator[str]:
    env = {**os.environ, "NEWRETAIL_HOME": str(home)}
    cli = str(Path(sys.executable).with_name("newretail"))
    with running([cli, "serve", "--host", "127.0.0.1"], env, home / "bench-serve.log") as up:
        yield up.url


def bearer(settings: Settings) -> str:
    database = engine_from_settings(settings)
    email = f"bench-{secrets.token_hex(4)}@example.com"
    with database.begin() as conn:
        create_user(
            conn,
            actor=Principal.cli(),
            email=email,
            role="marketer",
            password=secrets.token_urlsafe(16),
            now=NOW,
        )
        key = create_user_key(conn, actor=Principal.cli(), email=email, now=NOW)
    database.dispose()
    return key.key


def api_counts(settings: Settings, texts: list[str]) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {bearer(settings)}"}
    samples = []
    with server(settings.home) as url, httpx.Client(base_url=url, headers=headers) as client:
        for text in texts[:20]:  # warm: the first touch of each bitmap deserializes it
            client.post("/api/v1/audiences/count", json={"text": text}).raise_for_status()
        for i in range(COUNT_REQUESTS):
            text = texts[i % len(texts)]
            started = time.perf_counter()
            response = client.post("/api/v1/audiences/count", json={"text": text})
            samples.append(time.perf_counter() - started)
            response.raise_for_status()
    return {"p50": median_ms(samples), "p99": percentile_ms(samples, 0.99), "n": len(samples)}


def in_process(index_holder: IndexHolder, exprs: list[Expr]) -> dict[str, float]:
    indexes = index_holder.get()
    samples = []
    for expr in exprs * 3:
        compiled = compile_expression(indexes, text=to_text(expr), tree=None, entity="person")
        started = time.perf_counter()
        select(indexes, compiled)
        samples.append(time.perf_counter() - started)
    return {"p50": median_ms(samples), "p99": percentile_ms(samples, 0.99)}


def duckdb_way(settings: Settings, exprs: list[Expr], as_of: dt.date) -> dict[str, float]:
    """The same audiences as SQL over the wide tag table, loaded into DuckDB's memory first."""
    lake = Lake(settings.lake_dir)
    persons, stores = latest_refresh(lake, "person"), latest_refresh(lake, "store")
    assert persons is not None and stores is not None
    wheres = [to_sql(expr, as_of=as_of) for expr in exprs]
    # Only the columns the audiences read: the wide table of every tag would not fit in memory
    # at 10M persons, and a column store reads no others anyway.
    quoted = set(re.findall(r'"([a-z][a-z0-9_]*)"', " ".join(wheres)))
    person_columns = [c for c in pq.read_schema(persons.path).names if c in quoted]
    con = duckdb.connect()
    columns = ", ".join(["person_id", *(f'"{c}"' for c in person_columns)])
    con.execute(f"CREATE TABLE person_tags AS SELECT {columns} FROM read_parquet('{persons.path}')")
    con.execute(f"CREATE TABLE store_tags AS SELECT * FROM read_parquet('{stores.path}')")
    samples = []
    for where in wheres * 3:
        started = time.perf_counter()
        con.execute(f"SELECT count(*) FROM person_tags WHERE {where}").fetchone()
        samples.append(time.perf_counter() - started)
    con.close()
    return {"p50": median_ms(samples), "p99": percentile_ms(samples, 0.99)}


def saved_refresh(settings: Settings, rng: random.Random, runs: int) -> dict[str, float]:
    holder = IndexHolder(settings.index_dir)
    index = holder.get().persons
    database = engine_from_settings(settings)
    with database.begin() as conn:
        for i in range(SAVED - len(live_audiences(conn))):
            n = rng.randint(2, 10)
            text = " AND ".join(random_conditions(index, rng, n))
            compiled = compile_expression(holder.get(), text=text, tree=None, entity="person")
            draft = AudienceDraft(f"bench {i}", "", "person", compiled.tree, compiled.text)
            create_audience(conn, draft, created_by="cli", now=NOW)
    times = []
    for run in range(runs):
        started = time.perf_counter()
        counted = refresh_saved(database, holder.get(), now=NOW + dt.timedelta(seconds=run))
        times.append(time.perf_counter() - started)
        assert len(counted) >= SAVED
    database.dispose()
    return {"seconds": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--refresh-runs",
        type=int,
        default=None,
        help="Full tag refreshes to time (default: --runs); one takes minutes at 10M persons.",
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tags-"))
    try:
        home = work / "home"
        # The benchmark writes snapshots, audiences and users into a copy of the home's state;
        # the lake is shared through a symlink (a refresh rewrites only its ADS tag tables).
        home.mkdir()
        for entry in args.home.iterdir():
            if entry.name in ("lake", "demo-chain"):
                (home / entry.name).symlink_to(entry.resolve())
            elif entry.name not in ("index",):
                copy = shutil.copytree if entry.is_dir() else shutil.copy2
                copy(entry, home / entry.name)
        settings = Settings(home=home)
        refresh = refresh_runs(settings, args.refresh_runs or args.runs)
        snapshot = snapshot_figures(settings)
        holder = IndexHolder(settings.index_dir)
        index = holder.get().persons
        rng = random.Random(7)
        texts = [ten_conditions(index, rng) for _ in range(30)]
        exprs = [
            compile_expression(holder.get(), text=t, tree=None, entity="person").expr for t in texts
        ]
        sizes = [
            len(
                select(
                    holder.get(),
                    compile_expression(holder.get(), text=t, tree=None, entity="person"),
                ).members
            )
            for t in texts
        ]
        bitmaps = in_process(holder, exprs)
        obvious = duckdb_way(settings, exprs, index.as_of)
        api = api_counts(settings, texts)
        saved = saved_refresh(settings, rng, args.runs)
        write(args.label, refresh, snapshot, bitmaps, obvious, api, saved, sizes, texts[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write(
    label: str,
    refresh: list[dict[str, float]],
    snapshot: dict[str, float],
    bitmaps: dict[str, float],
    obvious: dict[str, float],
    api: dict[str, float],
    saved: dict[str, float],
    sizes: list[int],
    example: str,
) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in refresh)

    rows = int(refresh[0]["rows"])
    speedup = obvious["p50"] / bitmaps["p50"] if bitmaps["p50"] else float("inf")
    lines = [
        f"## Tags and audiences (bench/tags.py){' — ' + label if label else ''}",
        "",
        f"Machine: {machine()}.",
        f"{rows:,} persons × {int(refresh[0]['tags'])} tags (person and store); DuckDB engine. "
        f"Full refreshes: median of {len(refresh)} run(s); API counts, in-process counts, the "
        "DuckDB comparison and the saved-audience recount: medians over their samples (3 passes "
        "over 30 expressions; 600 requests; 3 recounts).",
        "",
        "| measure | result | target |",
        "| --- | ---: | --- |",
        f"| full tag refresh (stores + persons + index + snapshot + saved audiences) | "
        f"{med('total') / 60:.1f} min | ≤ 20 min at 10M |",
        f"| — person tags computed | {med('person_compute'):.1f} s | |",
        f"| — person bitmap index built and published | {med('person_index'):.1f} s | |",
        f"| — store tags | {med('store'):.1f} s | |",
        f"| person snapshot on disk | {snapshot['bytes'] / 2**20:,.0f} MiB | |",
        f"| snapshot load (manifest + mmap), median of 5 | {snapshot['load_ms']:.1f} ms | |",
        f"| first touch of every tag's bitmaps after load | {snapshot['touch_all_s']:.2f} s | |",
        f"| 10-condition audience count via HTTP API, p50 / p99 ({int(api['n'])} requests, "
        f"30 expressions) | {api['p50']:.1f} / {api['p99']:.1f} ms | ≤ 10 / ≤ 50 ms |",
        f"| same, bitmap evaluation in process, p50 / p99 | {bitmaps['p50']:.2f} / "
        f"{bitmaps['p99']:.2f} ms | |",
        f"| same, DuckDB over the wide tag table in memory (the columns they read; obvious way), "
        "p50 / p99 | "
        f"{obvious['p50']:.1f} / {obvious['p99']:.1f} ms | bitmap ≥ 10x faster |",
        f"| speed-up of the bitmap path (p50) | {speedup:.0f}x | ≥ 10x |",
        f"| {SAVED:,} saved audiences (2–10 conditions) recounted | {saved['seconds']:.1f} s | "
        "≤ 60 s |",
        "",
        f"Audience sizes of the 30 expressions: median {statistics.median(sizes):,.0f}, "
        f"min {min(sizes):,}, max {max(sizes):,}. One of them: `{example}`",
    ]
    update_section("tags", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
