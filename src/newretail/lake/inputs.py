"""Where a step's inputs are on disk, by business date, and the tokens their fingerprints hash.

An ODS file's token is its path, size and mtime: ingest replaces a partition by writing a new
file. A DWD or DWS partition's token is the fingerprint it was built from (recorded in the build
state), so rewriting it with the same content, as a forced rebuild does, dirties nothing downstream.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from newretail.lake.plan import Input, Step, is_dated
from newretail.lake.state import WHOLE, BuildState
from newretail.lake.storage import Lake
from newretail.model.spec import TableSpec


@dataclass(frozen=True)
class _File:
    path: str
    size: int
    token: str


class InputIndex:
    """The files of every input table; ODS is scanned once, DWD and DWS come from the state."""

    def __init__(self, lake: Lake, state: BuildState) -> None:
        self._lake = lake
        self._state = state
        self._ods: dict[str, dict[dt.date | None, list[_File]]] = {}

    def ods_dates(self, specs: Iterable[TableSpec]) -> set[dt.date]:
        """Every business date with an ODS partition in any of ``specs``."""
        out: set[dt.date] = set()
        for spec in specs:
            if is_dated(spec):
                out.update(d for d in self._scan(spec) if d is not None)
        return out

    def dates(self, source: Input) -> set[dt.date]:
        """The business dates on which ``source`` has data."""
        if not is_dated(source.spec):
            return set()
        if source.layer == "ods":
            return {d for d in self._scan(source.spec) if d is not None}
        entries = self._state.table(source.label)
        return {dt.date.fromisoformat(d) for d, e in entries.items() if e.rows > 0}

    def files(self, source: Input, dates: Iterable[dt.date] | None) -> list[_File]:
        """Files of ``source`` on ``dates`` (``None``: all of it), in path order."""
        if source.layer == "ods":
            scanned = self._scan(source.spec)
            if dates is None or not is_dated(source.spec):
                return sorted((f for fs in scanned.values() for f in fs), key=lambda f: f.path)
            return sorted((f for d in set(dates) for f in scanned.get(d, [])), key=lambda f: f.path)
        return self._internal(source, dates)

    def fingerprint(self, step: Step, date: dt.date | None) -> str:
        """Hash of everything the output partition on ``date`` (``None``: whole table) reads."""
        digest = hashlib.sha256(f"{step.label}:{step.version}:{step.spec.schema}".encode())
        for name, source in step.inputs:
            digest.update(f"\n{name}={source.label}".encode())
            for day in self._read_dates(source, date):
                for file in self.files(source, None if day is None else [day]):
                    digest.update(f"\n{file.token}".encode())
        return digest.hexdigest()

    def read_dates(self, source: Input, dates: Iterable[dt.date] | None) -> list[dt.date] | None:
        """The dates of ``source`` a query for output ``dates`` reads (``None``: all of it)."""
        if dates is None or not is_dated(source.spec):
            return None
        return sorted({d - dt.timedelta(days=lag) for d in dates for lag in source.lags})

    def _read_dates(self, source: Input, date: dt.date | None) -> list[dt.date | None]:
        days = self.read_dates(source, None if date is None else [date])
        return [None] if days is None else list(days)

    def _scan(self, spec: TableSpec) -> dict[dt.date | None, list[_File]]:
        if spec.name not in self._ods:
            root = self._lake.table_dir("ods", spec.name)
            by_date: dict[dt.date | None, list[_File]] = {}
            for path, part in zip(
                self._lake.files("ods", spec.name),
                self._lake.partitions("ods", spec.name),
                strict=True,
            ):
                stat = path.stat()
                day = (
                    dt.date.fromisoformat(part["business_date"])
                    if "business_date" in part
                    else None
                )
                rel = path.relative_to(root).as_posix()
                token = f"{rel}:{stat.st_size}:{stat.st_mtime_ns}"
                by_date.setdefault(day, []).append(_File(str(path), stat.st_size, token))
            self._ods[spec.name] = by_date
        return self._ods[spec.name]

    def _internal(self, source: Input, dates: Iterable[dt.date] | None) -> list[_File]:
        entries = self._state.table(source.label)
        if not is_dated(source.spec):
            parts = [WHOLE]
        elif dates is None:
            parts = sorted(entries)
        else:
            parts = sorted(d.isoformat() for d in set(dates))
        out = []
        for part in parts:
            entry = entries.get(part)
            partition = {"business_date": part} if part != WHOLE else {}
            path = self._lake.partition_file(source.layer, source.spec.name, partition)
            if entry is None or entry.rows == 0 or not path.exists():
                continue
            out.append(
                _File(str(path), path.stat().st_size, f"{source.label}/{part}:{entry.fingerprint}")
            )
        return out
