"""Saved policy simulations as the console and the API show them: the list of saved reports and one
report. A report covers every store trading in its currency, so it is the chain's, and a viewer
limited to some stores does not see it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from newretail.config import Engine as EngineName
from newretail.errors import Forbidden, NoData, NotFound
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.forecast.view_reads import material_names
from newretail.supply.lake_reader import LakeReader
from newretail.supply.simulate.reports import load_reports
from newretail.supply.simulate.run import SimulationReport

TRUTH_FILE = "demand.parquet"


@dataclass(frozen=True)
class SavedSimulation:
    id: str
    created_at: dt.datetime
    report: SimulationReport

    def dates(self) -> list[dt.date]:
        """The simulated days, in the order of the report's per-day figures."""
        days = (self.report.last - self.report.first).days + 1
        return [self.report.first + dt.timedelta(days=i) for i in range(days)]


def saved_simulations(lake: Lake, *, allowed: Collection[str] | None) -> list[SavedSimulation]:
    """Every saved report, newest first (``allowed``: the viewer's stores, None for the chain)."""
    _chain_wide(allowed)
    return [SavedSimulation(i, at, report) for i, at, report in load_reports(lake)]


def saved_simulation(
    lake: Lake, report_id: str, *, allowed: Collection[str] | None
) -> SavedSimulation:
    """The saved report ``report_id``; :class:`NotFound` when there is none."""
    for saved in saved_simulations(lake, allowed=allowed):
        if saved.id == report_id:
            return saved
    raise NotFound(
        "supply.simulation_not_found", f"no saved simulation {report_id}", field="report_id"
    )


def require_truth(truth_dir: Path) -> None:
    """Refuse early, before any work, when there is no ground truth to replay."""
    path = truth_dir / TRUTH_FILE
    if not path.is_file():
        raise NoData(
            "supply.no_truth",
            f"no true demand at {path}: simulation replays a generated chain's ground truth",
        )


def _chain_wide(allowed: Collection[str] | None) -> None:
    if allowed is not None:
        raise Forbidden(
            "supply.simulation_chain_wide",
            "simulations cover the whole chain, beyond your store scope",
        )


def material_labels(lake: Lake, *, engine: EngineName) -> dict[str, tuple[str, str, bool]]:
    """Material id -> (name, base unit, is core), for the per-material figures."""
    with connect_engine(engine) as runner:
        return material_names(LakeReader(lake, runner))
