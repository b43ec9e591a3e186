"""The lake: Parquet layered ODS → DWD → DWS → ADS, built by one set of Ibis transforms on DuckDB or
Spark.

>>> from newretail.lake import build, list_runs, Lake  # doctest: +SKIP
>>> report = build(lake=Lake(settings.lake_dir), engine="duckdb")  # doctest: +SKIP
"""

from __future__ import annotations

from newretail.lake.build import BuildReport, build
from newretail.lake.engines import Engine, EngineError, connect_engine
from newretail.lake.runlog import RunRecord, list_runs
from newretail.lake.storage import Lake

__all__ = [
    "BuildReport",
    "Engine",
    "EngineError",
    "Lake",
    "RunRecord",
    "build",
    "connect_engine",
    "list_runs",
]
