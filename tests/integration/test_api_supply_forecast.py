"""The forecast and saved-simulation reads through the real app over a tiny lake with a published run
and a saved report: who may read what (a store manager its stores only, and no chain-wide
simulation), and the 404s before anything is published. These routes read the lake only (the OLTP
database just authenticates), so SQLite is enough; the simulation jobs, which claim idempotency keys,
run on both databases in test_api_supply_simulations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.integration.supply_forecast_lake import CREATED, write_forecast_chain
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_flashsales import problem

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.api.simulation_jobs import Simulator, get_simulator
from newretail.lake import Lake
from newretail.oltp import make_engine, upgrade

NOW = CREATED
SIMULATIONS = "/api/v1/supply/simulations"


def start_api(
    home: Path, url: str, engine: Engine, simulator: Simulator | None = None
) -> Iterator[Api]:
    """The app over ``home`` and the database at ``url``, its clock pinned to ``NOW``."""
    settings = api_settings(home, url)
    app = create_app(settings, flush_in_background=False)
    app.dependency_overrides[get_now] = lambda: NOW
    if simulator is not None:
        # A seam, not a mock: the job machinery runs as in production around a stand-in run.
        app.dependency_overrides[get_simulator] = lambda: simulator
    with TestClient(app) as client:
        yield Api(client=client, engine=engine, settings=settings, admin={})


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite+pysqlite:///{tmp_path_factory.mktemp('oltp') / 'oltp.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite: tuple[str, Engine]) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("home")
    write_forecast_chain(Lake(home / "lake"))
    yield from start_api(home, *sqlite)


def test_the_forecast_within_the_callers_stores(api: Api) -> None:
    _, planner = api.user("supply_planner")
    _, manager = api.user("store_manager", stores=("S2",))
    _, marketer = api.user("marketer")
    get = api.client.get

    chain = get("/api/v1/supply/forecast", headers=planner)
    assert chain.status_code == 200, chain.text
    body = chain.json()
    assert (body["origin"], body["model"], body["store_id"]) == ("2026-03-15", "ets_share", None)
    assert [s["id"] for s in body["stores"]] == ["S1", "S2"]
    assert body["total"]["forecast"][0] == {
        "business_date": "2026-03-16",
        "mean": 160.0,
        "lo80": 110.0,
        "hi80": 210.0,
    }
    assert len(body["total"]["actual"]) == 14
    assert body["product"]["choice"]["id"] == "P1" and body["material"]["choice"]["unit"] == "ml"
    assert body["prep"]["business_date"] == "2026-03-16" and sum(body["prep"]["units"]) == 42.0

    mine = get("/api/v1/supply/forecast", params={"material_id": "M1"}, headers=manager).json()
    assert [s["id"] for s in mine["stores"]] == ["S2"] and mine["store_id"] is None
    assert mine["total"]["forecast"][0]["mean"] == 60.0
    assert mine["material"]["series"]["forecast"][0]["hi80"] == 1500.0
    problem(
        get("/api/v1/supply/forecast", params={"store_id": "S1"}, headers=manager),
        403,
        "auth.store_denied",
    )
    bad = get("/api/v1/supply/forecast", params={"store_id": "S1;drop"}, headers=planner)
    assert bad.status_code == 422
    problem(get("/api/v1/supply/forecast", headers=marketer), 403, "auth.permission_denied")

    accuracy = get("/api/v1/supply/forecast/accuracy", headers=manager).json()
    assert accuracy["count"] == 6 and accuracy["backtest_origins"] == ["2026-03-01", "2026-03-08"]
    serving = [r for r in accuracy["data"] if r["serving"]]
    assert {r["model"] for r in serving} == {"ets_share"}
    store_row = next(r for r in serving if r["level"] == "store")
    assert store_row["accuracy"] == pytest.approx(0.85)
    assert store_row["vs_naive"] == pytest.approx(-0.5)


def test_saved_simulations_are_the_chains(api: Api) -> None:
    _, analyst = api.user("analyst")
    _, manager = api.user("store_manager", stores=("S1",))
    listed = api.client.get(SIMULATIONS, headers=analyst).json()
    assert listed["count"] == 1
    summary = listed["data"][0]
    assert summary["id"] == "2026-03-15-CNY-14d"
    assert summary["policies"] == ["order_up_to_last_week", "forecast_0.95", "forecast_0.98"]
    one = api.client.get(f"{SIMULATIONS}/{summary['id']}", headers=analyst).json()
    assert len(one["dates"]) == 14 and one["dates"][0] == "2026-03-02"
    assert one["rows"][2]["waste_vs_first"] == -0.4
    assert one["days"]["forecast_0.98"]["waste_cost_minor"][0] == 60_000 // 14
    assert one["materials"]["forecast_0.95"]["M2"]["short_units"] == 10.0
    problem(
        api.client.get(f"{SIMULATIONS}/2026-01-01-CNY-7d", headers=analyst),
        404,
        "supply.simulation_not_found",
    )
    problem(api.client.get(SIMULATIONS, headers=manager), 403, "supply.simulation_chain_wide")
    problem(
        api.client.get(f"{SIMULATIONS}/jobs/0123456789abcdef", headers=analyst),
        403,
        "auth.permission_denied",
    )


def test_nothing_published_yet(tmp_path: Path, sqlite: tuple[str, Engine]) -> None:
    for api in start_api(tmp_path / "empty", *sqlite):
        _, planner = api.user("supply_planner")
        for path in ("/api/v1/supply/forecast", "/api/v1/supply/forecast/accuracy"):
            problem(api.client.get(path, headers=planner), 404, "supply.no_forecast")
        assert api.client.get(SIMULATIONS, headers=planner).json() == {"data": [], "count": 0}
