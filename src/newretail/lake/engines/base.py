"""The one engine interface: final methods own logging, error wrapping and the Arrow contract.

An engine (DuckDB, Spark) fills in a few hooks; transforms never see which engine runs them.
"""

from __future__ import annotations

import itertools
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, final

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.errors import NewRetailError

log = logging.getLogger("newretail.lake")


class EngineError(NewRetailError):
    """The compute engine failed to read or run a query; the message carries the engine's reason."""

    http_status = 500


class Engine(ABC):
    """Reads lake tables as Ibis tables and runs Ibis expressions to Arrow.

    ``chunk_bytes`` is how much input one query should read: engines with a high fixed cost per
    query (Spark) take bigger chunks.
    """

    name: ClassVar[str]
    chunk_bytes: ClassVar[int] = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._names = (f"nr_input_{n}" for n in itertools.count())
        self._views: list[str] = []
        self._backend: Any = None

    # -- the final methods domain code calls ----------------------------------------------------
    @property
    @final
    def backend(self) -> Any:
        """The Ibis backend, connected on first use."""
        if self._backend is None:
            with self._wrap("connect"):
                self._backend = self._connect()
        return self._backend

    @final
    def read(self, files: Sequence[Path], *, base: Path, schema: pa.Schema) -> ir.Table:
        """The Parquet ``files`` under ``base`` (Hive partition directories) as one Ibis table.

        Columns come out in ``schema``'s order and types, partition columns included; with no
        files the table is empty.
        """
        if not files:
            # Nullable like every column read from a file, so empty and non-empty inputs union.
            return ibis.memtable(pa.schema([f.with_nullable(True) for f in schema]).empty_table())
        name = next(self._names)
        with self._wrap(f"read {base.name} ({len(files)} files)"):
            self._register(name, [str(f) for f in files], str(base))
            self._views.append(name)
            table = self.backend.table(name)
            return table.select(
                *(table[f.name].cast(ibis.dtype(f.type)).name(f.name) for f in schema)
            )

    @final
    def execute(self, expr: ir.Table, *, schema: pa.Schema, label: str) -> pa.Table:
        """Run ``expr`` and return its rows cast to ``schema``, so every engine yields the same Arrow."""
        start = time.perf_counter()
        with self._wrap(label):
            result = self._to_arrow(expr)
        result = result.select(schema.names).cast(schema)
        log.info(
            "lake.query engine=%s label=%s rows=%d seconds=%.2f",
            self.name,
            label,
            result.num_rows,
            time.perf_counter() - start,
        )
        return result

    @final
    def release(self) -> None:
        """Forget the inputs registered since the last release (their views are dropped)."""
        views, self._views = self._views, []
        for name in views:
            with self._wrap(f"drop {name}"):
                self._drop(name)

    @final
    def close(self) -> None:
        if self._backend is not None:
            self.release()
            with self._wrap("close"):
                self._disconnect()
            self._backend = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _wrap(self, what: str) -> Iterator[None]:
        try:
            yield
        except NewRetailError:
            raise
        except Exception as exc:
            log.error("lake.engine_error engine=%s step=%s error=%s", self.name, what, exc)
            raise EngineError(
                "lake.engine_error", f"{self.name} failed to {what}: {type(exc).__name__}: {exc}"
            ) from exc

    # -- hooks an engine fills in -----------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """Return a connected Ibis backend."""

    @abstractmethod
    def _register(self, name: str, files: list[str], base: str) -> None:
        """Register ``files`` as table ``name``, discovering Hive partition columns below ``base``."""

    def _drop(self, name: str) -> None:
        self.backend.drop_view(name, force=True)

    def _to_arrow(self, expr: ir.Table) -> pa.Table:
        table: pa.Table = self.backend.to_pyarrow(expr)
        return table

    def _disconnect(self) -> None:
        self.backend.disconnect()
