"""Response and request models of the forecast view, the backtest accuracy table and the policy
simulations; units are product units, material quantities base units (g, ml, piece), money integer
minor units of the report's currency."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from newretail.api.models import Create, Public
from newretail.api.simulation_jobs import SimulationJob
from newretail.supply.forecast.accuracy_table import AccuracyTable
from newretail.supply.forecast.views import (
    Choice,
    Focus,
    ForecastView,
    Series,
)
from newretail.supply.simulate.compare import ComparisonRow
from newretail.supply.simulate.views import SavedSimulation

BAND = "the central 80% band: 80% of days should fall inside it"
SUM_RULE = "over several stores: means summed, band half-widths combined in quadrature"


class ActualPublic(Public):
    business_date: dt.date
    value: float


class BandPublic(Public):
    business_date: dt.date
    mean: float
    lo80: float
    hi80: float


class SeriesPublic(Public):
    actual: list[ActualPublic] = Field(description="Eight weeks up to the newest day of sales.")
    forecast: list[BandPublic] = Field(description=f"From the day after the origin; {BAND}.")

    @classmethod
    def of(cls, series: Series) -> SeriesPublic:
        return cls.model_validate(
            {"actual": list(series.actual), "forecast": list(series.forecast)}
        )


class ChoicePublic(Public):
    id: str
    name: str
    name_en: str
    unit: str = Field(description="Base unit of a material; empty for stores and products.")


class FocusPublic(Public):
    choice: ChoicePublic
    series: SeriesPublic

    @classmethod
    def of(cls, focus: Focus | None) -> FocusPublic | None:
        if focus is None:
            return None
        return cls(
            choice=ChoicePublic.model_validate(focus.choice), series=SeriesPublic.of(focus.series)
        )


class PrepPublic(Public):
    business_date: dt.date = Field(description="Tomorrow: the first day of the forecast.")
    units: list[float] = Field(description="Forecast units per local hour, 0 to 23.")


def _choices(choices: tuple[Choice, ...]) -> list[ChoicePublic]:
    return [ChoicePublic.model_validate(c) for c in choices]


class ForecastPublic(Public):
    origin: dt.date = Field(description="The run's last day of history.")
    model: str = Field(description="The serving model (best backtest at store × product).")
    horizon: int
    created_at: dt.datetime
    store_id: str | None = Field(description="Null: the sum over every store in `stores`.")
    stores: list[ChoicePublic] = Field(description="The stores you may choose.")
    total: SeriesPublic = Field(
        description="Units of every product. Actual: DWS store_product_day units (completed"
        " orders) summed over products and stores. Forecast: ADS store_forecast; " + SUM_RULE
    )
    products: list[ChoicePublic]
    product: FocusPublic | None = Field(
        description="Units of one product (ADS demand_forecast against DWS store_product_day)."
    )
    materials: list[ChoicePublic]
    material: FocusPublic | None = Field(
        description="Base units of one material: ADS material_forecast (demand through the bill"
        " of materials) against the units consumed (DWS store_material_day consumption, sign"
        " flipped)."
    )
    prep: PrepPublic

    @classmethod
    def of(cls, view: ForecastView) -> ForecastPublic:
        return cls(
            origin=view.run.origin,
            model=view.run.model,
            horizon=view.run.horizon,
            created_at=view.run.created_at,
            store_id=view.store_id,
            stores=_choices(view.stores),
            total=SeriesPublic.of(view.total),
            products=_choices(view.products),
            product=FocusPublic.of(view.product),
            materials=_choices(view.materials),
            material=FocusPublic.of(view.material),
            prep=PrepPublic(business_date=view.prep_date, units=list(view.prep_units)),
        )


class AccuracyRowPublic(Public):
    model: str
    level: str = Field(
        description="The series scored: chain-day, store-day or store × product-day."
    )
    accuracy: float = Field(description="1 - WAPE.")
    wape: float = Field(description="sum |forecast - actual| / sum actual.")
    bias: float = Field(description="sum (forecast - actual) / sum actual; > 0 over-forecasts.")
    mase: float = Field(description="MAE over seasonal-naive's in-sample MAE; < 1 beats it.")
    vs_naive: float | None = Field(description="WAPE / seasonal-naive's WAPE - 1 at the level.")
    serving: bool = Field(description="The model the published forecast uses.")


class AccuracyPublic(Public):
    origin: dt.date
    model: str
    backtest_origins: list[dt.date] = Field(description="The rolling origins scored.")
    data: list[AccuracyRowPublic]
    count: int

    @classmethod
    def of(cls, table: AccuracyTable) -> AccuracyPublic:
        rows = [
            AccuracyRowPublic(
                model=row.model,
                level=row.level,
                accuracy=row.accuracy,
                wape=row.wape,
                bias=row.bias,
                mase=row.mase,
                vs_naive=row.vs_naive,
                serving=row.serving,
            )
            for row in table.rows
        ]
        return cls(
            origin=table.run.origin,
            model=table.run.model,
            backtest_origins=table.run.backtest_origins,
            data=rows,
            count=len(rows),
        )


class SimulationSummaryPublic(Public):
    id: str
    created_at: dt.datetime
    first: dt.date
    last: dt.date
    currency: str = Field(description="The stores trading in it were simulated; money in it.")
    stores: int
    stores_left_out: int = Field(description="Opened or closed inside the window.")
    forecast_model: str
    policies: list[str] = Field(description="The first is the baseline.")

    @classmethod
    def of(cls, saved: SavedSimulation) -> SimulationSummaryPublic:
        report = saved.report
        return cls(
            id=saved.id,
            created_at=saved.created_at,
            first=report.first,
            last=report.last,
            currency=report.currency,
            stores=report.stores,
            stores_left_out=report.stores_left_out,
            forecast_model=report.forecast_model,
            policies=[row.policy for row in report.rows],
        )


class SimulationsPublic(Public):
    data: list[SimulationSummaryPublic]
    count: int


class ComparisonPublic(Public):
    policy: str
    in_stock_rate_core: float = Field(
        description="Share of store-days × core materials with no stock-out."
    )
    lost_units: int = Field(description="Product units demanded but not sold.")
    lost_sales_minor: int = Field(description="Lost units at list price.")
    waste_cost_minor: int = Field(description="Waste at purchase cost.")
    waste_rate: float
    waste_vs_first: float | None = Field(description="Waste cost / the baseline's - 1.")
    avg_inventory_value_minor: int = Field(description="Stock at purchase cost, daily average.")
    holding_cost_minor: int
    orders_placed: int


class PolicyDaysPublic(Public):
    in_stock_core: list[float] = Field(description="Core in-stock rate per day.")
    waste_cost_minor: list[int] = Field(description="Waste at purchase cost per day.")


class SimulationPublic(SimulationSummaryPublic):
    dates: list[dt.date]
    rows: list[ComparisonPublic]
    days: dict[str, PolicyDaysPublic]
    materials: dict[str, dict[str, dict[str, float]]] = Field(
        description="policy -> material -> in_stock_rate, waste_cost_minor, short_units,"
        " avg_inventory_value_minor."
    )

    @classmethod
    def of(cls, saved: SavedSimulation) -> SimulationPublic:
        report = saved.report
        return cls(
            **SimulationSummaryPublic.of(saved).model_dump(),
            dates=saved.dates(),
            rows=[_row(r) for r in report.rows],
            days={name: PolicyDaysPublic.model_validate(d) for name, d in report.days.items()},
            materials=report.materials,
        )


def _row(row: ComparisonRow) -> ComparisonPublic:
    return ComparisonPublic.model_validate(row)


ServiceLevel = Annotated[float, Field(gt=0.5, lt=1)]


class SimulationCreate(Create):
    weeks: int = Field(4, ge=1, le=26, description="The newest weeks of the lake to replay.")
    service_levels: list[ServiceLevel] | None = Field(
        None,
        min_length=1,
        max_length=8,
        description="Service levels of the forecast-driven policy; default 0.95, 0.98, 0.995,"
        " 0.999, 0.9995.",
    )
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$", description="Simulate its stores.")


class JobErrorPublic(Public):
    code: str
    message: str


class SimulationJobPublic(Public):
    id: str
    status: Literal["running", "done", "failed"]
    weeks: int
    service_levels: list[float]
    currency: str
    started_at: dt.datetime
    report_id: str | None = Field(description="The saved report, once done.")
    error: JobErrorPublic | None = Field(description="Why it failed.")
    poll: str = Field(description="Where to ask again.")

    @classmethod
    def of(cls, job: SimulationJob) -> SimulationJobPublic:
        error = None
        if job.error_code is not None:
            error = JobErrorPublic(code=job.error_code, message=job.error_message or "")
        return cls(
            id=job.id,
            status=job.status,
            weeks=job.spec.weeks,
            service_levels=list(job.spec.service_levels),
            currency=job.spec.currency,
            started_at=job.spec.now,
            report_id=job.report_id,
            error=error,
            poll=f"/api/v1/supply/simulations/jobs/{job.id}",
        )
