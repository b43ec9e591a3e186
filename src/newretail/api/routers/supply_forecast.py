"""The demand forecast against actuals and its backtest accuracy (``supply.read``; a store manager
sees its stores only), and policy simulations: saved reports (``supply.read``, chain-wide) and new
runs started in the background (``supply.write``, with an Idempotency-Key) and polled by job id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.simulation_jobs import JobsDep, SimulationSpec, SimulatorDep, truth_dir
from newretail.api.supply_forecast_models import (
    AccuracyPublic,
    ForecastPublic,
    SimulationCreate,
    SimulationJobPublic,
    SimulationPublic,
    SimulationsPublic,
    SimulationSummaryPublic,
)
from newretail.security import Permission
from newretail.supply.forecast.accuracy_table import forecast_accuracy
from newretail.supply.forecast.views import forecast_view
from newretail.supply.simulate.run import DEFAULT_SERVICE_LEVELS
from newretail.supply.simulate.views import require_truth, saved_simulation, saved_simulations

router = APIRouter(prefix="/api/v1/supply", tags=["supply"])

Code = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ReportId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@router.get("/forecast")
def read_forecast(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    store_id: Code = None,
    product_id: Code = None,
    material_id: Code = None,
) -> ForecastPublic:
    """Eight weeks of actuals beside the newest published forecast with its 80% band, for a store
    or the sum of the stores you may see; one product's and one material's the same; tomorrow's
    hourly prep curve. 404 ``supply.no_forecast`` until a forecast is published."""
    principal.require(Permission.SUPPLY_READ)
    view = forecast_view(
        runtime.lake,
        engine=runtime.settings.engine,
        allowed=principal.store_scope,
        store_id=store_id,
        product_id=product_id,
        material_id=material_id,
    )
    return ForecastPublic.of(view)


@router.get("/forecast/accuracy")
def read_accuracy(principal: CurrentPrincipal, runtime: RuntimeDep) -> AccuracyPublic:
    """The newest run's rolling-origin backtest: accuracy (1 - WAPE), bias and MASE per model and
    level, the serving model marked."""
    principal.require(Permission.SUPPLY_READ)
    return AccuracyPublic.of(forecast_accuracy(runtime.lake))


@router.get("/simulations")
def read_simulations(principal: CurrentPrincipal, runtime: RuntimeDep) -> SimulationsPublic:
    """Saved policy comparisons, newest first (chain-wide: not for store-scoped users)."""
    principal.require(Permission.SUPPLY_READ)
    saved = saved_simulations(runtime.lake, allowed=principal.store_scope)
    return SimulationsPublic(data=[SimulationSummaryPublic.of(s) for s in saved], count=len(saved))


@router.get("/simulations/jobs/{job_id}")
def read_simulation_job(
    job_id: JobId, principal: CurrentPrincipal, jobs: JobsDep
) -> SimulationJobPublic:
    """A simulation started on this server: running, done (with its report's id) or failed (with
    the error's code and message)."""
    principal.require(Permission.SUPPLY_WRITE)
    return SimulationJobPublic.of(jobs.get(job_id))


@router.get("/simulations/{report_id}")
def read_simulation(
    report_id: ReportId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> SimulationPublic:
    """One saved comparison: the policies side by side, per day and per material."""
    principal.require(Permission.SUPPLY_READ)
    saved = saved_simulation(runtime.lake, report_id, allowed=principal.store_scope)
    return SimulationPublic.of(saved)


@router.post(
    "/simulations", status_code=status.HTTP_202_ACCEPTED, response_model=SimulationJobPublic
)
def start_simulation(
    payload: SimulationCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
    jobs: JobsDep,
    simulator: SimulatorDep,
) -> Response:
    """Replay the newest ``weeks`` of the demo chain's true demand through every policy in the
    background; poll the job it returns. One simulation at a time per server process (409
    ``supply.simulation_running``); 404 ``supply.no_truth`` without the chain's ground truth."""
    principal.require(Permission.SUPPLY_WRITE)

    def work() -> SimulationJobPublic:
        require_truth(truth_dir(runtime.settings))
        levels = tuple(payload.service_levels or DEFAULT_SERVICE_LEVELS)
        spec = SimulationSpec(payload.weeks, levels, payload.currency, now)
        return SimulationJobPublic.of(jobs.start(simulator, spec))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_202_ACCEPTED
    )
