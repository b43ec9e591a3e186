"""OneID at chain scale: a full resolution of a 1M-member chain, an incremental run of 10k new records,
and the accuracy of each beside its time.

Not a test. Needs a built lake (``--home``, e.g. the pipeline benchmark's) or generates one
(``--members``; 1M takes about 10 minutes). Medians of ``--runs`` runs, each on a fresh SQLite
database; PostgreSQL once beside it when the server is there. Usage:
``python bench/identity.py [--home DIR] [--truth DIR] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from newretail.identity.batch import RunReport, resolve_identities
from newretail.identity.evaluation import Evaluation, evaluate, meets_targets
from newretail.identity.records import identifier_rows, load_records
from newretail.identity.rules import IdentityRules
from newretail.identity.store import current_links
from newretail.lake import Lake
from newretail.oltp import make_engine, upgrade
from results import machine, update_section

NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
RULES = IdentityRules()
INCREMENT = 10_000
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _prepare(members: int, work: Path) -> tuple[Path, Path]:
    home = work / "home"
    env = {**os.environ, "NEWRETAIL_HOME": str(home)}
    cli = str(Path(sys.executable).with_name("newretail"))
    stores, days = max(10, members // 2000), 365
    for args in (
        [
            "generate",
            "--out",
            str(work / "chain"),
            "--members",
            str(members),
            "--stores",
            str(stores),
            "--days",
            str(days),
        ],
        ["ingest", str(work / "chain" / "sources")],
        ["build"],
    ):
        subprocess.run([cli, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return home, work / "chain" / "truth"


def _evaluate(lake: Lake, engine_url: str, truth: Path) -> Evaluation:
    engine = make_engine(engine_url)
    with engine.connect() as conn:
        links = current_links(conn)
        records = load_records(lake, conn, RULES)
    engine.dispose()
    return evaluate(
        links.select(["source", "source_record_id", "person_id"]),
        truth,
        identifier_rows(records, RULES),
    )


def _full(lake: Lake, url: str, model: Path) -> tuple[RunReport, float, float]:
    engine = make_engine(url)
    upgrade(engine)
    process = psutil.Process()
    start = time.perf_counter()
    report = resolve_identities(lake, engine, rules=RULES, model_file=model, now=NOW, full=True)
    seconds = time.perf_counter() - start
    engine.dispose()
    return report, seconds, process.memory_info().rss / 2**30


def _postgres_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3) as c:
            c.execute("DROP SCHEMA IF EXISTS bench_identity CASCADE")
            c.execute("CREATE SCHEMA bench_identity")
            c.commit()
    except Exception as error:
        print(f"PostgreSQL skipped: {error}")
        return None
    return POSTGRES + "?options=-csearch_path%3Dbench_identity"


def _incremental(home: Path, work: Path, model: Path, runs: int) -> tuple[list[float], RunReport]:
    """Resolve all but the newest 10k records, then time the run that takes them in: each timed
    run starts from the same state (database, the lake's person tables, the identity caches)."""
    lake = Lake(work / "inc-lake")
    shutil.rmtree(lake.root, ignore_errors=True)
    shutil.copytree(Lake(home / "lake").root, lake.root, copy_function=os.link)
    path = lake.files("dwd", "identity_records")[0]
    everything = pq.read_table(path)
    created = everything["created_at"].cast(pa.int64()).to_numpy()
    newest = np.argpartition(created, everything.num_rows - INCREMENT)[-INCREMENT:]
    mask = np.ones(everything.num_rows, dtype=bool)
    mask[newest] = False
    early = everything.filter(pa.array(mask))
    path.unlink()  # a hard link into the source lake: unlink, never overwrite in place
    pq.write_table(early, path)
    base_cache = work / "inc-cache"
    base_cache.mkdir(exist_ok=True)
    shutil.copy(model, base_cache / model.name)
    base = work / "inc-base.sqlite3"
    engine = make_engine(f"sqlite+pysqlite:///{base}")
    upgrade(engine)
    resolve_identities(
        lake, engine, rules=RULES, model_file=base_cache / model.name, now=NOW, full=True
    )
    engine.dispose()
    person_tables = {
        name: lake.partition_file("dwd", name, {}) for name in ("person_links", "persons")
    }
    for name, file in person_tables.items():
        shutil.copy(file, work / f"inc-{name}.parquet")
    path.unlink()
    pq.write_table(everything, path)
    times: list[float] = []
    report: RunReport | None = None
    for run in range(runs):
        db = work / f"inc-{run}.sqlite3"
        shutil.copy(base, db)
        for name, file in person_tables.items():
            shutil.copy(work / f"inc-{name}.parquet", file)
        cache = work / f"inc-cache-{run}"
        shutil.copytree(base_cache, cache)
        engine = make_engine(f"sqlite+pysqlite:///{db}")
        start = time.perf_counter()
        report = resolve_identities(
            lake, engine, rules=RULES, model_file=cache / model.name, now=NOW
        )
        times.append(time.perf_counter() - start)
        engine.dispose()
    assert report is not None
    return times, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="NEWRETAIL_HOME with a built lake")
    parser.add_argument("--truth", type=Path, help="the chain's truth/ directory")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-identity-"))
    try:
        if args.home is None:
            home, truth = _prepare(args.members, work)
        else:
            home, truth = args.home, args.truth
        lake = Lake(home / "lake")
        model = work / "model.json"
        full: list[tuple[RunReport, float, float]] = []
        for run in range(args.runs):
            url = f"sqlite+pysqlite:///{work / f'full-{run}.sqlite3'}"
            full.append(_full(lake, url, model))
            if run == 0:
                accuracy = _evaluate(lake, url, truth)
        pg_url = _postgres_url()
        pg = _full(lake, pg_url, model) if pg_url else None
        inc_times, inc_report = _incremental(home, work, model, args.runs)
        inc_accuracy = _evaluate(lake, f"sqlite+pysqlite:///{work / 'inc-0.sqlite3'}", truth)
        _write(full, pg, inc_times, inc_report, accuracy, inc_accuracy)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _targets(e: Evaluation) -> str:
    return "; ".join(
        f"{name} {('n/a' if v is None else f'{v:.4f}' if isinstance(v, float) else v)} "
        f"(target {target}: {'met' if met else 'NOT met'})"
        for name, v, target, met in meets_targets(e)
    )


def _write(
    full: list[tuple[RunReport, float, float]],
    pg: tuple[RunReport, float, float] | None,
    inc_times: list[float],
    inc: RunReport,
    accuracy: Evaluation,
    inc_accuracy: Evaluation,
) -> None:
    report = full[0][0]
    median = statistics.median(s for _, s, _ in full)
    steps = ", ".join(
        f"{k} {statistics.median(r.seconds[k] for r, _, _ in full):.1f}s" for k in report.seconds
    )
    lines = [
        "## OneID (identity resolution)",
        "",
        f"Machine: {machine()}. Chain: {report.records:,} identity records of a generated chain; "
        f"medians of {len(full)} runs, each on a fresh database.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| full resolution, SQLite | {median:.0f} s ({steps}); peak RSS "
        f"{max(m for _, _, m in full):.1f} GiB | ≤ 300 s |",
    ]
    if pg is not None:
        lines.append(f"| full resolution, PostgreSQL (1 run) | {pg[1]:.0f} s | ≤ 300 s |")
    lines += [
        f"| incremental run, {inc.fresh_records:,} new records | "
        f"{statistics.median(inc_times):.1f} s "
        f"({', '.join(f'{k} {v:.1f}s' for k, v in inc.seconds.items())}; {inc.records:,} "
        f"records of {inc.persons:,} persons resolved again) | ≤ 10 s |",
        f"| persons found | {report.persons:,} ({accuracy.true_persons:,} true) | |",
        "",
        f"Accuracy after the full run: {_targets(accuracy)}; strong precision "
        f"{accuracy.strong.precision}, recall {accuracy.strong.recall}; fuzzy precision "
        f"{accuracy.fuzzy.precision}, recall {accuracy.fuzzy.recall}; B-cubed F1 "
        f"{accuracy.bcubed.f1:.4f}; hub groups merged {accuracy.hub_groups_merged} of "
        f"{accuracy.hub_groups_total}.",
        "",
        f"Accuracy after the incremental run: {_targets(inc_accuracy)}.",
        "",
        "Where the time goes: only records whose cluster has no usable phone or e-mail are scored "
        "by Splink; everything else is linked by the ID graph (DuckDB + SciPy components).",
    ]
    update_section("identity", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
