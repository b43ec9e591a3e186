"""The same transforms on Spark local mode and on DuckDB write byte-identical DWD and DWS files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.integration.spark_session import spark
from tests.unit.lake.ods_fixture import build_ods

from newretail.lake import Lake, build, connect_engine

__all__ = ["spark"]  # a fixture

pytestmark = pytest.mark.spark


def _files(lake: Lake) -> dict[str, bytes]:
    return {
        str(p.relative_to(lake.root)): p.read_bytes()
        for layer in ("dwd", "dws")
        for p in sorted((lake.root / layer).rglob("*.parquet"))
    }


def test_spark_and_duckdb_write_identical_tables(tmp_path: Path, spark: Any) -> None:
    on_duckdb, on_spark = Lake(tmp_path / "duckdb"), Lake(tmp_path / "spark")
    build_ods(on_duckdb)
    build_ods(on_spark)
    build(lake=on_duckdb, engine="duckdb")
    build(lake=on_spark, engine=connect_engine("spark", session=spark))
    duck, sp = _files(on_duckdb), _files(on_spark)
    assert sorted(duck) == sorted(sp)
    assert any(path.startswith("dws/store_material_day") for path in duck)
    for path in duck:
        assert pq.read_schema(on_spark.root / path) == pq.read_schema(on_duckdb.root / path), path
        assert pq.read_table(on_spark.root / path).equals(pq.read_table(on_duckdb.root / path)), (
            path
        )
        assert sp[path] == duck[path], path


def test_spark_incremental_build_writes_nothing_twice(tmp_path: Path, spark: Any) -> None:
    lake = Lake(tmp_path / "lake")
    build_ods(lake)
    engine = connect_engine("spark", session=spark)
    assert build(lake=lake, engine=engine).partitions_written > 0
    assert build(lake=lake, engine=engine).partitions_written == 0
