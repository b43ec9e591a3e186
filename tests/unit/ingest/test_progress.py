"""Ingest reports progress through the domain interface: a check task, then one task per file."""

from __future__ import annotations

from pathlib import Path

from tests.unit.ingest.ingest_fixture import DECLARATIONS, order_row, write_dimensions, write_orders

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake.storage import Lake
from newretail.progress import Task


class _Task:
    def __init__(self, log: dict[str, list[int | None]], description: str) -> None:
        self._log, self._description = log, description

    def advance(self, amount: int = 1) -> None:
        self._log[self._description].append(amount)


class _Recorder:
    def __init__(self) -> None:
        self.log: dict[str, list[int | None]] = {}

    def task(self, description: str, total: int | None) -> Task:
        self.log[description] = [total]
        return _Task(self.log, description)


def test_a_task_per_file_with_its_rows(tmp_path: Path, settings: Settings) -> None:
    write_dimensions(tmp_path / "src")
    write_orders(tmp_path / "src", "2026-01.csv", [order_row("O1"), order_row("O2", gross="x")])
    recorder = _Recorder()
    ingest(
        tmp_path / "src",
        lake=Lake(tmp_path / "lake"),
        settings=settings,
        progress=recorder,
        declarations=DECLARATIONS,
    )
    assert recorder.log["check source files"] == [4, 1, 1, 1, 1]
    total, *advances = recorder.log["ingest pos/orders/2026-01.csv"]
    assert total == 2 and sum(a or 0 for a in advances) == 2
    assert "ingest erp/products.csv" in recorder.log
