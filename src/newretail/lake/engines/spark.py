"""Spark in local mode (or on a cluster given a session): the same expressions, for scale.

pyspark is imported only here and only when this engine is chosen; without it the error names the
``spark`` extra to install.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.errors import NewRetailError
from newretail.lake.engines.base import Engine

_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Partition values are typed from the table specs, not guessed from directory names.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.driver.bindAddress": "127.0.0.1",
}


class SparkEngine(Engine):
    """Runs the lake's Ibis expressions on Spark; ``session`` reuses an existing SparkSession."""

    name: ClassVar[str] = "spark"
    # A Spark job has a fixed cost of around a second, so each query reads more input.
    chunk_bytes: ClassVar[int] = 1024 * 1024 * 1024

    def __init__(self, *, session: Any = None, master: str = "local[2]") -> None:
        super().__init__()
        self._session = session
        self._master = master
        self._owns_session = session is None

    def _connect(self) -> Any:
        if self._session is None:
            self._session = local_session(self._master)
        return ibis.pyspark.connect(self._session)

    @property
    def session(self) -> Any:
        """The SparkSession, started on first use."""
        self.backend  # noqa: B018 - connecting starts the session
        return self._session

    def _register(self, name: str, files: list[str], base: str) -> None:
        frame = self.session.read.option("basePath", base).parquet(*files)
        frame.createOrReplaceTempView(name)

    def _drop(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def _to_arrow(self, expr: ir.Table) -> pa.Table:
        # Spark's own Arrow export keeps types and time zones that a trip through pandas loses;
        # the pre-execute hooks register the in-memory (empty input) tables Ibis would register.
        self.backend._run_pre_execute_hooks(expr)
        table: pa.Table = self.session.sql(self.backend.compile(expr)).toArrow()
        return table

    def _disconnect(self) -> None:
        if self._owns_session and self._session is not None:
            self._session.stop()
        self._session = None


def local_session(master: str = "local[2]") -> Any:
    """A SparkSession in local mode with the settings the lake relies on (UTC, no UI)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise NewRetailError(
            "lake.spark_missing",
            "the Spark engine needs pyspark: install the extra with pip install 'newretail[spark]'",
        ) from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName("newretail")
    for key, value in _CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
