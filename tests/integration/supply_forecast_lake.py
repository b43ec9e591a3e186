"""A published forecast run and a saved simulation report written straight into the tiny chain of
:mod:`tests.integration.supply_health_lake` (stores S1 and S2, two weeks of sales and stock up to
2026-03-15), for the forecast and simulation views, API and pages.

Bands are chosen so that their sums over S1 and S2 come out round: one store's half-widths are 30
and 40, the other's 40 and 30 (or 6 and 8, 8 and 6), so the combined half-width is 50 (or 10).
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
from tests.integration.supply_health_lake import LAST, Chain, write_chain

from newretail.lake import Lake
from newretail.supply.forecast.publish import RUNS_DIR, PublishedRun
from newretail.supply.simulate.compare import ComparisonRow
from newretail.supply.simulate.reports import save_report
from newretail.supply.simulate.run import PolicyDays, SimulationReport

ORIGIN = LAST
HORIZON = 3
CREATED = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.UTC)
# store -> (mean on the first day, growing by 1 a day; down; up)
STORE_BANDS = {"S1": (100.0, 30.0, 40.0), "S2": (60.0, 40.0, 30.0)}
PRODUCT_BANDS = {
    ("S1", "P1"): (60.0, 6.0, 8.0),
    ("S2", "P1"): (40.0, 8.0, 6.0),
    ("S1", "P2"): (20.0, 5.0, 6.0),
}
MATERIAL_BANDS = {
    ("S1", "M1"): (2000.0, 300.0, 400.0),
    ("S2", "M1"): (1200.0, 400.0, 300.0),
    ("S1", "M3"): (60.0, 10.0, 10.0),
}
# (store, day after the origin, local hour) -> units; the second day must not show as tomorrow.
HOURLY = {("S1", 1, 8): 10.0, ("S1", 1, 9): 20.0, ("S2", 1, 9): 5.0, ("S2", 1, 17): 7.0}
HOURLY_LATER = {("S1", 2, 8): 99.0}
# model -> level -> (wape, bias, mase)
ACCURACY = {
    "seasonal_naive": {
        "chain": (0.20, -0.05, 1.4),
        "store": (0.30, -0.05, 1.1),
        "store_product": (0.60, -0.05, 1.0),
    },
    "ets_share": {
        "chain": (0.10, 0.02, 0.9),
        "store": (0.15, 0.02, 0.8),
        "store_product": (0.45, 0.02, 0.85),
    },
}
SERVING = "ets_share"


def day(h: int) -> dt.date:
    return ORIGIN + dt.timedelta(days=h)


def write_forecast_chain(lake: Lake) -> Chain:
    """The health tests' chain, this module's forecast run and one saved simulation report."""
    chain = write_chain(lake, forecast=False)
    write_run(lake)
    save_report(lake, report(), now=CREATED)
    return chain


def write_run(lake: Lake) -> None:
    tables = {
        "store_forecast": [
            _band({"store_id": s}, mean + h - 1, down, up, "units", h)
            for s, (mean, down, up) in STORE_BANDS.items()
            for h in range(1, HORIZON + 1)
        ],
        "demand_forecast": [
            {**_band({"store_id": s, "product_id": p}, mean, d, u, "units", h), "model": SERVING}
            for (s, p), (mean, d, u) in PRODUCT_BANDS.items()
            for h in range(1, HORIZON + 1)
        ],
        "material_forecast": [
            {
                **_band({"location_id": s, "material_id": m}, mean, d, u, "quantity", h),
                "sigma_quantity": d,
            }
            for (s, m), (mean, d, u) in MATERIAL_BANDS.items()
            for h in range(1, HORIZON + 1)
        ],
        "hourly_forecast": [
            {"store_id": s, "business_date": day(h), "business_hour": hour, "mean_units": units}
            for (s, h, hour), units in {**HOURLY, **HOURLY_LATER}.items()
        ],
        "forecast_accuracy": [
            {
                "model": model,
                "level": level,
                "wape": wape,
                "bias": bias,
                "mase": mase,
                "actual_units": 1000.0,
                "serving": model == SERVING,
                "origins": 2,
            }
            for model, levels in ACCURACY.items()
            for level, (wape, bias, mase) in levels.items()
        ],
    }
    for name, rows in tables.items():
        lake.write_partition("ads", name, {"origin": ORIGIN}, pa.Table.from_pylist(rows))
    run = PublishedRun(
        origin=ORIGIN,
        horizon=HORIZON,
        model=SERVING,
        created_at=CREATED,
        product_dispersion=1.0,
        store_dispersion=1.0,
        material_dispersion={},
        backtest_origins=[ORIGIN - dt.timedelta(days=14), ORIGIN - dt.timedelta(days=7)],
        rows={name: len(rows) for name, rows in tables.items()},
    )
    runs = lake.table_dir("ads", RUNS_DIR)
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{ORIGIN.isoformat()}.json").write_text(json.dumps(run.as_json()))


def _band(
    keys: dict[str, str], mean: float, down: float, up: float, unit: str, h: int
) -> dict[str, object]:
    return {
        **keys,
        "business_date": day(h),
        f"mean_{unit}": mean,
        f"lo80_{unit}": mean - down,
        f"hi80_{unit}": mean + up,
    }


POLICIES = ("order_up_to_last_week", "forecast_0.95", "forecast_0.98")
REPORT_DAYS = 14


def report(*, last: dt.date = LAST) -> SimulationReport:
    """Three policies over two weeks: the forecast-driven ones waste less, at 0.98 it meets the
    target (98.5% core in stock, 40% less waste), at 0.95 it does not (97%)."""
    rows = [
        _row("order_up_to_last_week", 0.980, 100_000, None),
        _row("forecast_0.95", 0.970, 50_000, -0.5),
        _row("forecast_0.98", 0.985, 60_000, -0.4),
    ]
    return SimulationReport(
        first=last - dt.timedelta(days=REPORT_DAYS - 1),
        last=last,
        currency="CNY",
        stores=2,
        stores_left_out=0,
        forecast_model=SERVING,
        rows=rows,
        days={
            r.policy: PolicyDays(
                in_stock_core=[r.in_stock_rate_core] * REPORT_DAYS,
                waste_cost_minor=[r.waste_cost_minor // REPORT_DAYS] * REPORT_DAYS,
            )
            for r in rows
        },
        materials={
            r.policy: {
                m: {
                    "in_stock_rate": r.in_stock_rate_core,
                    "waste_cost_minor": float(r.waste_cost_minor // 3),
                    "short_units": 10.0,
                    "avg_inventory_value_minor": 12_345.0,
                }
                for m in ("M1", "M2", "M3")
            }
            for r in rows
        },
    )


def _row(policy: str, in_stock: float, waste: int, vs_first: float | None) -> ComparisonRow:
    return ComparisonRow(
        policy=policy,
        in_stock_rate_core=in_stock,
        lost_units=int((1 - in_stock) * 10_000),
        lost_sales_minor=int((1 - in_stock) * 1_000_000),
        waste_cost_minor=waste,
        waste_rate=waste / 1_000_000,
        waste_vs_first=vs_first,
        avg_inventory_value_minor=500_000,
        holding_cost_minor=3_500,
        orders_placed=120,
    )
