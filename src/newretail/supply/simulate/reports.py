"""Simulation reports kept beside the lake's ADS tables (``ads/simulation_runs/<id>.json``), so the
console shows the newest comparisons without running them again; each file is swapped in whole."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from newretail.lake.storage import Lake, replacing
from newretail.supply.simulate.compare import ComparisonRow
from newretail.supply.simulate.run import PolicyDays, SimulationReport

RUNS_DIR = "simulation_runs"
_KEEP = 20


def report_id(report: SimulationReport) -> str:
    return f"{report.last.isoformat()}-{report.currency}-{(report.last - report.first).days + 1}d"


def save_report(lake: Lake, report: SimulationReport, *, now: dt.datetime) -> str:
    """Write ``report`` (replacing one of the same window and currency); keeps the newest 20."""
    directory = lake.table_dir("ads", RUNS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    ident = report_id(report)
    body = {"id": ident, "created_at": now.isoformat(), **_plain(report)}
    with lake.writer(("ads", RUNS_DIR)):
        with replacing(directory / f"{ident}.json", suffix=".json") as handle:
            handle.write(json.dumps(body, indent=1).encode())
        files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[_KEEP:]:
            old.unlink()
    return ident


def load_reports(lake: Lake) -> list[tuple[str, dt.datetime, SimulationReport]]:
    """(id, created_at, report) for every saved report, newest first."""
    directory = lake.table_dir("ads", RUNS_DIR)
    if not directory.exists():
        return []
    found = []
    for path in directory.glob("*.json"):
        data = json.loads(path.read_text())
        found.append(
            (str(data["id"]), dt.datetime.fromisoformat(data["created_at"]), _report(data))
        )
    return sorted(found, key=lambda item: item[1], reverse=True)


def _plain(report: SimulationReport) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["first"], data["last"] = report.first.isoformat(), report.last.isoformat()
    return data


def _report(data: dict[str, Any]) -> SimulationReport:
    return SimulationReport(
        first=dt.date.fromisoformat(data["first"]),
        last=dt.date.fromisoformat(data["last"]),
        currency=str(data["currency"]),
        stores=int(data["stores"]),
        stores_left_out=int(data["stores_left_out"]),
        forecast_model=str(data["forecast_model"]),
        rows=[ComparisonRow(**row) for row in data["rows"]],
        days={name: PolicyDays(**days) for name, days in data["days"].items()},
        materials=data["materials"],
    )
