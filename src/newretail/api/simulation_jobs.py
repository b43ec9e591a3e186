"""Policy simulations started over the API: each runs in a background thread of this server process,
one at a time (a second start while one runs is refused with ``supply.simulation_running``), and is
polled by its job id until it is done (the saved report's id) or failed (the error's code and
message). Jobs live in this process's memory: a restart forgets them, saved reports stay in the lake.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request

from newretail.api.deps import RuntimeDep
from newretail.config import Settings
from newretail.errors import Conflict, NewRetailError, NotFound
from newretail.supply.actions import simulate

log = logging.getLogger("newretail.api.simulation_jobs")
Status = Literal["running", "done", "failed"]
_KEEP = 50
_create = threading.Lock()


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate; ``now`` stamps the saved report."""

    weeks: int
    service_levels: tuple[float, ...]
    currency: str
    now: dt.datetime


@dataclass(frozen=True)
class SimulationJob:
    id: str
    spec: SimulationSpec
    status: Status = "running"
    report_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


# Runs one simulation to the end and returns the id of the report it saved.
Simulator = Callable[[SimulationSpec], str]


class SimulationJobs:
    """The process's simulation jobs, the newest 50 kept for polling."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, SimulationJob] = OrderedDict()
        self._running: str | None = None

    def start(self, simulator: Simulator, spec: SimulationSpec) -> SimulationJob:
        """Start ``simulator`` on ``spec`` in a new thread; :class:`Conflict` while one runs."""
        with self._lock:
            if self._running is not None:
                raise Conflict(
                    "supply.simulation_running",
                    f"simulation job {self._running} is still running: poll it, then start again",
                )
            job = SimulationJob(id=secrets.token_hex(8), spec=spec)
            self._jobs[job.id] = job
            while len(self._jobs) > _KEEP:
                self._jobs.popitem(last=False)
            self._running = job.id
        thread = threading.Thread(
            target=self._run, args=(job, simulator), name=f"simulation-{job.id}", daemon=True
        )
        thread.start()
        log.info("supply.simulation_started job=%s weeks=%d", job.id, spec.weeks)
        return job

    def get(self, job_id: str) -> SimulationJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                "supply.simulation_job_not_found", f"no simulation job {job_id}", field="job_id"
            )
        return job

    def _run(self, job: SimulationJob, simulator: Simulator) -> None:
        try:
            finished = replace(job, status="done", report_id=simulator(job.spec))
        except NewRetailError as error:
            finished = replace(
                job, status="failed", error_code=error.code, error_message=error.message
            )
        except Exception:
            log.exception("supply.simulation_failed job=%s", job.id)
            finished = replace(
                job,
                status="failed",
                error_code="supply.simulation_failed",
                error_message="the simulation stopped on an unexpected error: see the server log",
            )
        with self._lock:
            self._jobs[job.id] = finished
            self._running = None
        log.info("supply.simulation_%s job=%s", finished.status, job.id)


def get_simulation_jobs(request: Request) -> SimulationJobs:
    """The app's one job registry, made on first use."""
    with _create:
        jobs = getattr(request.app.state, "simulation_jobs", None)
        if not isinstance(jobs, SimulationJobs):
            jobs = request.app.state.simulation_jobs = SimulationJobs()
    return jobs


def get_simulator(runtime: RuntimeDep) -> Simulator:
    """The real simulation over the server's lake and the demo chain's ground truth."""

    def run(spec: SimulationSpec) -> str:
        ident, _ = simulate(
            runtime.lake,
            engine=runtime.settings.engine,
            truth_dir=truth_dir(runtime.settings),
            weeks=spec.weeks,
            now=spec.now,
            service_levels=spec.service_levels,
            currency=spec.currency,
        )
        return ident

    return run


def truth_dir(settings: Settings) -> Path:
    """The demo chain's ground truth, written beside its sources by ``newretail demo``."""
    return settings.home / "demo-chain" / "truth"


JobsDep = Annotated[SimulationJobs, Depends(get_simulation_jobs)]
SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
