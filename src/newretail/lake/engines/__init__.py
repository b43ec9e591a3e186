"""Compute engines for the lake: one interface (:class:`Engine`), chosen by name."""

from __future__ import annotations

from typing import Any

from newretail.config import Engine as EngineName
from newretail.errors import InvalidInput
from newretail.lake.engines.base import Engine, EngineError


def connect_engine(name: EngineName | str = "duckdb", **options: Any) -> Engine:
    """An engine by name ("duckdb" or "spark"); ``options`` go to its constructor.

    >>> with connect_engine("duckdb", threads=1) as engine:
    ...     engine.name
    'duckdb'
    """
    if name == "duckdb":
        from newretail.lake.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from newretail.lake.engines.spark import SparkEngine

        return SparkEngine(**options)
    raise InvalidInput(
        "lake.unknown_engine", f"unknown engine {name!r}: use duckdb or spark", field="engine"
    )


__all__ = ["Engine", "EngineError", "connect_engine"]
