"""The generator's tiny chain ingests with the real declarations and no rejected row."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake.storage import Lake
from newretail.progress import SilentProgress
from newretail.sim.config import SimConfig
from newretail.sim.generate import generate


def test_generated_chain_ingests_without_rejects(tmp_path: Path, settings: Settings) -> None:
    generate(
        SimConfig(members=500, stores=5, days=14, seed=1), out=tmp_path, progress=SilentProgress()
    )
    lake = Lake(settings.lake_dir)
    report = ingest(tmp_path / "sources", lake=lake, settings=settings)
    assert report.rejected_by_reason == {}
    assert report.files and all(f.status == "ingested" for f in report.files)
    for table in ("stores", "orders", "order_lines", "inventory_snapshots"):
        rows = sum(pq.read_metadata(p).num_rows for p in lake.files("ods", table))
        assert rows == report.accepted_by_table[table] > 0, table
    # Member records repeat across the initial and monthly files: versions merge by key.
    assert lake.files("ods", "identity_records")
    again = ingest(tmp_path / "sources", lake=lake, settings=settings)
    assert {f.status for f in again.files} == {"unchanged"}
