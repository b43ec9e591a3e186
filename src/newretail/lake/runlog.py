"""The run log: one JSON line when a run starts and one when it ends, appended and fsynced under
``<lake>/_runs/runs.jsonl``; :func:`list_runs` folds them into one record per run."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from newretail.lake.storage import Lake

Status = Literal["running", "ok", "failed"]


@dataclass(frozen=True)
class RunRecord:
    """One run of the lake: what it covered, what it wrote, how it ended.

    ``partitions`` and ``rows`` are per output table (``dws/store_day``); a run still ``running``
    was either in progress when read or killed before it could record its end.
    """

    run_id: str
    kind: str
    started_at: dt.datetime
    status: Status
    engine: str
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    finished_at: dt.datetime | None = None
    partitions: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_row(self) -> tuple[str, ...]:
        """run, kind, engine, started (UTC), seconds, status, dates, partitions: for a table view."""
        seconds = (
            f"{(self.finished_at - self.started_at).total_seconds():.1f}"
            if self.finished_at
            else ""
        )
        dates = (
            f"{self.date_from or '…'}..{self.date_to or '…'}"
            if self.date_from or self.date_to
            else "changed"
        )
        status = f"{self.status}: {self.error}" if self.error else self.status
        return (
            self.run_id,
            self.kind,
            self.engine,
            self.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            seconds,
            status,
            dates,
            str(sum(self.partitions.values())),
        )


def _path(lake: Lake) -> Path:
    return lake.root / "_runs" / "runs.jsonl"


def append(lake: Lake, record: RunRecord) -> None:
    """Append ``record`` durably; a later line for the same run_id supersedes earlier ones."""
    path = _path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(record), default=_iso, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def list_runs(lake: Lake) -> list[RunRecord]:
    """Every run recorded under ``lake``, newest first.

    >>> from pathlib import Path; import tempfile
    >>> list_runs(Lake(Path(tempfile.mkdtemp())))
    []
    """
    path = _path(lake)
    if not path.exists():
        return []
    latest: dict[str, RunRecord] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-append; the lines around it are whole
        latest[raw["run_id"]] = _record(raw)
    return sorted(latest.values(), key=lambda r: (r.started_at, r.run_id), reverse=True)


def _record(raw: dict[str, Any]) -> RunRecord:
    def when(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    def day(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    started = when(raw["started_at"])
    assert started is not None
    return RunRecord(
        run_id=raw["run_id"],
        kind=raw["kind"],
        started_at=started,
        status=raw["status"],
        engine=raw["engine"],
        date_from=day(raw.get("date_from")),
        date_to=day(raw.get("date_to")),
        finished_at=when(raw.get("finished_at")),
        partitions=dict(raw.get("partitions") or {}),
        rows=dict(raw.get("rows") or {}),
        error=raw.get("error"),
    )


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot record {type(value).__name__}")
