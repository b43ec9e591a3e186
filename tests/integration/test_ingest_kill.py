"""An ingest killed with SIGKILL midway leaves only whole partitions, and a re-run converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.unit.ingest.ingest_fixture import (
    DECLARATIONS,
    ORDERS_HEADER,
    lake_bytes,
    write_dimensions,
)

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake.storage import Lake

ROOT = Path(__file__).resolve().parents[2]
FILES = 40
ROWS = 40_000

RUN = """
import sys
from pathlib import Path
from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake.storage import Lake
from tests.unit.ingest.ingest_fixture import DECLARATIONS
src, lake, home = map(Path, sys.argv[1:4])
ingest(src, lake=Lake(lake), settings=Settings(home=home), declarations=DECLARATIONS)
"""


def _write_chain(root: Path) -> None:
    write_dimensions(root)
    rng = np.random.default_rng(3)
    (root / "pos" / "orders").mkdir(parents=True)
    for f in range(FILES):
        # Each file spans two local days, so consecutive files merge into shared partitions.
        day = 1 + f // 2
        seconds = rng.integers(0, 2 * 86400, ROWS)
        lines = [ORDERS_HEADER]
        for i, s in enumerate(seconds.tolist()):
            d, rest = divmod(int(s), 86400)
            placed = (
                f"2026-01-{day + d:02d} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
            )
            store = "S001" if i % 3 else "S002"
            # Order ids repeat across neighbouring files: the later file wins by key.
            lines.append(
                f"O{(f // 2) * ROWS + i},{store},dine_in,completed,{placed},CNY,"
                f"{i % 90}.{f % 10}0,0,{i % 90}.{f % 10}0,WX\n"
            )
        (root / "pos" / "orders" / f"{f:03d}.csv").write_bytes("".join(lines).encode("gbk"))


@pytest.mark.slow
def test_killed_ingest_leaves_whole_partitions_and_rerun_converges(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write_chain(src)
    lake = Lake(tmp_path / "lake")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", RUN, str(src), str(lake.root), str(tmp_path / "home")]
    process = subprocess.Popen(args, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        while len(lake.files("ods", "orders")) < 6 and time.monotonic() < deadline:
            assert process.poll() is None, "ingest finished before it could be killed"
            time.sleep(0.005)
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    partial = lake.files("ods", "orders")
    assert partial, "no partition was written before the kill"
    for path in partial:
        assert path.name == "data.parquet"
        pq.read_table(path)  # complete and readable: a torn file would fail here
    manifest = lake.root / "_ingest" / "files.json"
    recorded = manifest.read_text() if manifest.exists() else ""
    assert "pos/orders/039.csv" not in recorded

    settings = Settings(home=tmp_path / "home")
    ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    assert lake.leftover_temporaries() == []
    clean = Lake(tmp_path / "clean")
    ingest(src, lake=clean, settings=settings, declarations=DECLARATIONS)
    assert lake_bytes(lake.root) == lake_bytes(clean.root)
    assert manifest.read_text() == (clean.root / "_ingest" / "files.json").read_text()
    assert len(lake.files("ods", "orders")) == FILES // 2 + 1
