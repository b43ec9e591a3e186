"""DuckDB, the embedded default: in-process, bounded memory, spills to a private temporary directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, ClassVar

import ibis

from newretail.lake.engines.base import Engine


class DuckDBEngine(Engine):
    """Runs the lake's Ibis expressions on an in-memory DuckDB.

    ``memory_limit`` bounds DuckDB's own buffers (results handed to Arrow come on top), ``threads``
    defaults to the machine's cores.
    """

    name: ClassVar[str] = "duckdb"

    def __init__(self, *, memory_limit: str = "3GB", threads: int | None = None) -> None:
        super().__init__()
        self._memory_limit = memory_limit
        self._threads = threads or os.cpu_count() or 1
        self._spill: str | None = None

    def _connect(self) -> Any:
        self._spill = tempfile.mkdtemp(prefix="newretail-duckdb-")
        return ibis.duckdb.connect(
            threads=self._threads,
            memory_limit=self._memory_limit,
            temp_directory=self._spill,
            # Results are sorted in Arrow before writing, so the engine need not keep input order.
            preserve_insertion_order=False,
        )

    def _register(self, name: str, files: list[str], base: str) -> None:
        self.backend.read_parquet(files, table_name=name, hive_partitioning=True)

    def _drop(self, name: str) -> None:
        # The name is one the engine generated (nr_input_<n>), never user input.
        self.backend.raw_sql(f'DROP VIEW IF EXISTS "{name}"')

    def _disconnect(self) -> None:
        self.backend.disconnect()
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = None
