"""Benchmark of the whole batch pipeline (generate → ingest → build) at chain scale.

Measures each stage in its own process, medians of several runs, at two sizes so the cost per
member can be projected to 10M members. Usage: ``python bench/pipeline.py [--runs 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from results import machine, update_section

STAGES = ("generate", "ingest", "build")
TARGET_SECONDS = 15 * 60
TARGET_PEAK = 8 * 2**30
WORK = Path(__file__).parent / "out" / "pipeline"


@dataclass(frozen=True)
class Scale:
    members: int
    stores: int
    days: int

    @property
    def label(self) -> str:
        return f"{self.members:,} members, {self.stores} stores, {self.days} days"


def run_stage(stage: str, scale: Scale, home: Path) -> dict[str, float]:
    chain = home / "chain"
    cmd = [sys.executable, str(Path(__file__).with_name("stage.py")), stage, str(chain)]
    if stage == "generate":
        cmd += [str(scale.members), str(scale.stores), str(scale.days)]
    env = {**os.environ, "NEWRETAIL_HOME": str(home), "NEWRETAIL_ENGINE": "duckdb"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-4000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(scale: Scale, runs: int) -> dict[str, list[dict[str, float]]]:
    by_stage: dict[str, list[dict[str, float]]] = {stage: [] for stage in STAGES}
    for run in range(runs):
        home = WORK / f"{scale.members}-{run}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        for stage in STAGES:
            result = run_stage(stage, scale, home)
            by_stage[stage].append(result)
            print(f"{scale.label} run {run + 1}: {stage} {result['seconds']:.1f}s", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    return by_stage


def median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def table(scale: Scale, by_stage: dict[str, list[dict[str, float]]]) -> tuple[str, float, float]:
    lines = [
        f"**{scale.label}** (median of {len(by_stage['generate'])} runs)",
        "",
        "| stage | rows out | seconds (median) | rows/s | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total = 0.0
    peak = 0.0
    for stage in STAGES:
        rows = median(by_stage[stage], "rows")
        seconds = median(by_stage[stage], "seconds")
        stage_peak = max(r["peak_bytes"] for r in by_stage[stage])
        total += seconds
        peak = max(peak, stage_peak)
        lines.append(
            f"| {stage} | {rows:,.0f} | {seconds:,.1f} | {rows / seconds:,.0f} | {stage_peak / 2**30:.2f} GiB |"
        )
    lines.append(f"| **whole pipeline** | | **{total:,.1f}** | | **{peak / 2**30:.2f} GiB** |")
    return "\n".join(lines), total, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    args = parser.parse_args()
    small, large = (
        (Scale(5_000, 10, 30), Scale(20_000, 20, 60))
        if args.quick
        else (Scale(250_000, 500, 365), Scale(1_000_000, 500, 365))
    )
    results = {scale: measure(scale, args.runs) for scale in (small, large)}
    body = [
        "## Batch pipeline: generate + ingest + build (issue 2)",
        "",
        f"Machine: {machine()}.",
        "",
    ]
    totals = {}
    peaks = {}
    for scale, by_stage in results.items():
        text, totals[scale], peaks[scale] = table(scale, by_stage)
        body += [text, ""]
    # Cost grows linearly with members at a fixed store count and horizon (orders, lines, events and
    # identity records are per member; inventory is per store), so two sizes fix a line to project on.
    per_member = (totals[large] - totals[small]) / (large.members - small.members)
    fixed = totals[large] - per_member * large.members
    projected = fixed + per_member * 10_000_000
    verdict = (
        "meets" if totals[large] <= TARGET_SECONDS and peaks[large] <= TARGET_PEAK else "misses"
    )
    body += [
        "Rows out: generate counts source rows plus ground-truth rows; ingest counts source rows"
        " read (accepted + quarantined); build counts DWD and DWS rows written.",
        "",
        f"Target (1M members, 500 stores, 365 days): whole pipeline within {TARGET_SECONDS // 60} minutes "
        f"and {TARGET_PEAK / 2**30:.0f} GiB peak. Measured: {totals[large] / 60:.1f} minutes, "
        f"{peaks[large] / 2**30:.2f} GiB peak — {verdict} the target.",
        "",
        f"Projection for 10M members (linear fit through the two sizes: {fixed:,.0f} s fixed + "
        f"{per_member * 1e6:,.0f} s per million members): about {projected / 60:,.0f} minutes on this "
        f"2-core machine. Peak RSS was {peaks[small] / 2**30:.2f} GiB at {small.members:,} members "
        f"and {peaks[large] / 2**30:.2f} GiB at {large.members:,}.",
    ]
    update_section("pipeline", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
