"""Policy simulations started over the API on SQLite and PostgreSQL (the start claims an
Idempotency-Key): each runs in a background thread of the server and is polled by job id — 202,
polled to done, a second start refused while one runs, a key replayed; a real domain error becomes
the job's failure, and without the chain's ground truth the start is refused up front."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.supply_forecast_lake import report
from tests.integration.test_api_app import Api
from tests.integration.test_api_flashsales import problem
from tests.integration.test_api_supply_forecast import NOW, SIMULATIONS, start_api

from newretail.api.simulation_jobs import SimulationSpec
from newretail.lake import Lake
from newretail.supply.simulate.reports import save_report
from newretail.supply.simulate.run import DEFAULT_SERVICE_LEVELS


def keyed() -> dict[str, str]:
    return {"Idempotency-Key": secrets.token_hex(8)}


def poll(api: Api, job: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now: dict[str, Any] = api.client.get(job["poll"], headers=headers).json()
        if now["status"] != "running":
            return now
        time.sleep(0.02)
    raise AssertionError(f"job {job['id']} still running")


def test_a_simulation_runs_in_the_background_one_at_a_time(
    migrated_engine: Engine, database_url: str, isolated_home: Path
) -> None:
    lake = Lake(isolated_home / "lake")
    truth = isolated_home / "demo-chain" / "truth"
    truth.mkdir(parents=True)
    (truth / "demand.parquet").write_bytes(b"PAR1")
    release = threading.Event()
    asked: list[SimulationSpec] = []

    def slow(spec: SimulationSpec) -> str:
        # Stands in for the minutes a real simulation takes: holds until the test lets it finish.
        asked.append(spec)
        assert release.wait(20)
        return save_report(lake, report(), now=spec.now)

    for api in start_api(isolated_home, database_url, migrated_engine, slow):
        _, planner = api.user("supply_planner")
        _, analyst = api.user("analyst")
        body = {"weeks": 2, "service_levels": [0.97, 0.99]}
        problem(
            api.client.post(SIMULATIONS, json=body, headers=planner),
            422,
            "idempotency.key_required",
        )
        problem(
            api.client.post(SIMULATIONS, json=body, headers={**analyst, **keyed()}),
            403,
            "auth.permission_denied",
        )
        bad = api.client.post(
            SIMULATIONS, json={"weeks": 2, "service_levels": [1.5]}, headers={**planner, **keyed()}
        )
        assert bad.status_code == 422

        key = keyed()
        started = api.client.post(SIMULATIONS, json=body, headers={**planner, **key})
        assert started.status_code == 202, started.text
        job = started.json()
        assert (job["status"], job["weeks"], job["service_levels"]) == ("running", 2, [0.97, 0.99])
        assert job["currency"] == "CNY" and job["poll"] == f"{SIMULATIONS}/jobs/{job['id']}"
        again = api.client.post(SIMULATIONS, json=body, headers={**planner, **key})
        assert again.status_code == 202 and again.json() == job
        assert again.headers["Idempotent-Replayed"] == "true"
        problem(
            api.client.post(SIMULATIONS, json=body, headers={**planner, **keyed()}),
            409,
            "supply.simulation_running",
        )
        assert api.client.get(job["poll"], headers=planner).json()["status"] == "running"

        release.set()
        done = poll(api, job, planner)
        assert (done["status"], done["report_id"], done["error"]) == (
            "done",
            "2026-03-15-CNY-14d",
            None,
        )
        assert [(s.weeks, s.service_levels, s.now) for s in asked] == [(2, (0.97, 0.99), NOW)]
        saved = api.client.get(f"{SIMULATIONS}/{done['report_id']}", headers=analyst)
        assert saved.status_code == 200
        second = api.client.post(SIMULATIONS, json={}, headers={**planner, **keyed()})
        assert second.status_code == 202  # the first has finished
        assert second.json()["service_levels"] == list(DEFAULT_SERVICE_LEVELS)
        assert poll(api, second.json(), planner)["status"] == "done"
        problem(
            api.client.get(f"{SIMULATIONS}/jobs/0123456789abcdef", headers=planner),
            404,
            "supply.simulation_job_not_found",
        )


def test_a_failing_simulation_reports_its_error_and_no_truth_is_refused(
    migrated_engine: Engine, database_url: str, isolated_home: Path
) -> None:
    for api in start_api(isolated_home, database_url, migrated_engine):
        _, planner = api.user("supply_planner")
        problem(
            api.client.post(SIMULATIONS, json={"weeks": 2}, headers={**planner, **keyed()}),
            404,
            "supply.no_truth",
        )
        truth = isolated_home / "demo-chain" / "truth"
        truth.mkdir(parents=True)
        (truth / "demand.parquet").write_bytes(b"PAR1")
        # Ground truth is there, but the lake is empty: the real simulation fails at once.
        started = api.client.post(SIMULATIONS, json={"weeks": 2}, headers={**planner, **keyed()})
        assert started.status_code == 202, started.text
        failed = poll(api, started.json(), planner)
        assert failed["status"] == "failed" and failed["report_id"] is None
        assert failed["error"]["code"] == "supply.no_network"
        assert "ingest and build" in failed["error"]["message"]
