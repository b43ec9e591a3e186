"""What a build computes: steps that each turn input tables into one output table, in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis.expr.types as ir

from newretail.lake.storage import Layer
from newretail.model.spec import TableSpec

Transform = Callable[[Mapping[str, ir.Table]], ir.Table]


def is_dated(spec: TableSpec) -> bool:
    """Whether a table is partitioned by business date (else it is read and written whole)."""
    return "business_date" in spec.partition_by


@dataclass(frozen=True)
class Input:
    """A table a step reads. For a dated output, a dated input is read on the output's date minus
    each of ``lags`` days (``(0, 1)``: the same day and the day before); otherwise whole."""

    layer: Layer
    spec: TableSpec
    lags: tuple[int, ...] = (0,)

    @property
    def label(self) -> str:
        return f"{self.layer}/{self.spec.name}"


@dataclass(frozen=True)
class Step:
    """One output table: ``transform`` maps the named inputs to its rows (any column order).

    ``version`` is part of every output partition's fingerprint: bump it when the transform's
    meaning changes so the next build recomputes every partition.
    """

    layer: Layer
    spec: TableSpec
    inputs: tuple[tuple[str, Input], ...]
    transform: Transform
    version: str = "1"

    @property
    def label(self) -> str:
        return f"{self.layer}/{self.spec.name}"

    @property
    def dated(self) -> bool:
        return is_dated(self.spec)
