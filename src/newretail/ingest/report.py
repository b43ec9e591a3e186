"""What an ingest run did, per file and in total; the CLI prints it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ingested", "unchanged"]


@dataclass(frozen=True)
class FileReport:
    """One source file: ``path`` is relative to the ingest directory."""

    path: str
    declaration: str
    table: str
    status: Status
    rows_read: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class DeclarationLine:
    """The files of one declaration added up (a row of the CLI's table)."""

    name: str
    files: int
    unchanged: int
    rows: int
    accepted: int
    rejected: int


@dataclass
class IngestReport:
    """Counts of this run; files reported ``unchanged`` were not read and add no rows."""

    files: list[FileReport] = field(default_factory=list)
    accepted_by_table: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    partitions_written: int = 0

    @property
    def accepted(self) -> int:
        return sum(self.accepted_by_table.values())

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def add(self, file: FileReport, reasons: Counter[str]) -> None:
        self.files.append(file)
        if file.status == "ingested":
            self.accepted_by_table[file.table] = (
                self.accepted_by_table.get(file.table, 0) + file.accepted
            )
        for reason, count in reasons.items():
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + count

    def by_declaration(self) -> list[DeclarationLine]:
        names = sorted({f.declaration for f in self.files})
        lines = []
        for name in names:
            files = [f for f in self.files if f.declaration == name]
            lines.append(
                DeclarationLine(
                    name=name,
                    files=len(files),
                    unchanged=sum(f.status == "unchanged" for f in files),
                    rows=sum(f.rows_read for f in files),
                    accepted=sum(f.accepted for f in files),
                    rejected=sum(f.rejected for f in files),
                )
            )
        return lines

    def describe(self) -> str:
        ingested = sum(f.status == "ingested" for f in self.files)
        reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(self.rejected_by_reason.items()))
        return (
            f"{ingested} files ingested, {len(self.files) - ingested} unchanged;"
            f" {self.accepted:,} rows accepted, {self.rejected:,} rejected"
            + (f" ({reasons})" if reasons else "")
        )
