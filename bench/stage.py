"""Runs one pipeline stage in this process and prints its rows, seconds and peak memory as JSON.

Each stage gets a fresh process so that its peak RSS is its own.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

from newretail.config import get_settings
from newretail.lake.storage import Lake
from newretail.progress import SilentProgress


def main() -> None:
    stage, chain = sys.argv[1], Path(sys.argv[2])
    settings = get_settings()
    lake = Lake(settings.lake_dir)
    started = time.perf_counter()
    if stage == "generate":
        from newretail.sim import SimConfig, generate

        members, stores, days = (int(x) for x in sys.argv[3:6])
        config = SimConfig(
            members=members, stores=stores, days=days, seed=42, start=dt.date(2025, 1, 1)
        )
        report = generate(config, out=chain, progress=SilentProgress())
        rows = sum(report.rows.values()) + sum(report.truth_rows.values())
    elif stage == "ingest":
        from newretail.ingest import ingest

        ingested = ingest(
            chain / "sources", lake=lake, settings=settings, progress=SilentProgress()
        )
        rows = ingested.accepted + ingested.rejected
    elif stage == "build":
        from newretail.lake import build

        built = build(
            lake=lake, engine="duckdb", date_from=None, date_to=None, progress=SilentProgress()
        )
        rows = sum(built.rows.values())
    else:
        raise SystemExit(f"unknown stage {stage}")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"stage": stage, "rows": rows, "seconds": seconds, "peak_bytes": peak}))


if __name__ == "__main__":
    main()
