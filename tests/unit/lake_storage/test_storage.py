"""The lake's partition files: one per partition, swapped atomically, Hive paths readable by engines."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from newretail.lake.storage import Lake

DAY = dt.date(2026, 3, 1)


def _rows(n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {"order_id": [f"o{i}" for i in range(start, start + n)], "amount": list(range(n))}
    )


def test_write_then_read_back_without_partition_columns(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    data = _rows(3).append_column("business_date", pa.array([DAY] * 3))
    path = lake.write_partition("ods", "orders", {"source": "pos", "business_date": DAY}, data)
    assert path == tmp_path / "ods/orders/source=pos/business_date=2026-03-01/data.parquet"
    back = lake.read_partition("ods", "orders", {"source": "pos", "business_date": DAY})
    assert back.column_names == ["order_id", "amount"]
    assert lake.partitions("ods", "orders") == [{"source": "pos", "business_date": "2026-03-01"}]


def test_duckdb_reads_partition_values_from_the_path(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_partition("ods", "orders", {"source": "pos", "business_date": DAY}, _rows(2))
    lake.write_partition("ods", "orders", {"source": "app", "business_date": DAY}, _rows(5))
    files = [str(f) for f in lake.files("ods", "orders")]
    rows = duckdb.sql(
        "select source, count(*) from read_parquet($files, hive_partitioning=true) group by 1 order by 1",
        params={"files": files},
    ).fetchall()
    assert rows == [("app", 5), ("pos", 2)]


def test_rewrite_replaces_the_whole_partition(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    part = {"business_date": DAY}
    lake.write_partition("dwd", "orders", part, _rows(10))
    lake.write_partition("dwd", "orders", part, _rows(4, start=100))
    assert lake.read_partition("dwd", "orders", part).column("order_id").to_pylist()[0] == "o100"
    assert len(lake.files("dwd", "orders")) == 1


def test_bad_partition_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unusable"):
        Lake(tmp_path).partition_dir("ods", "orders", {"source": "../etc"})


def test_a_writer_killed_midway_leaves_the_old_partition_readable(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    part = {"business_date": DAY}
    lake.write_partition("dwd", "orders", part, _rows(1000))
    before = lake.partition_file("dwd", "orders", part).read_bytes()
    # A child rewrites the same partition with 20M rows over and over; we kill it mid-write.
    script = (
        "import pyarrow as pa, sys\n"
        "from newretail.lake.storage import Lake\n"
        "import datetime as dt\n"
        "lake = Lake(sys.argv[1])\n"
        "t = pa.table({'order_id': pa.array(['x'] * 20_000_000), 'amount': pa.array(range(20_000_000))})\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    lake.write_partition('dwd', 'orders', {'business_date': dt.date(2026, 3, 1)}, t)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while not lake.leftover_temporaries() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lake.leftover_temporaries(), "the child never started writing"
    child.kill()
    child.wait()
    # Readers see one complete file: the old one or a complete new one, never a torn one.
    files = lake.files("dwd", "orders")
    assert len(files) == 1
    table = lake.read_partition("dwd", "orders", part)
    assert table.num_rows in (1000, 20_000_000)
    if table.num_rows == 1000:
        assert files[0].read_bytes() == before
    # The next writer sweeps the temporary away.
    with lake.writer():
        pass
    assert lake.leftover_temporaries() == []
    assert [p.name for p in files[0].parent.iterdir()] == ["data.parquet"]
