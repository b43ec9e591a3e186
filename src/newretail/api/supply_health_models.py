"""Response models of inventory health and the supplier view; figures come with the counts they are
ratios of, money in integer minor units of ``currency``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from newretail.api.models import Public
from newretail.supply.health import AGE_BUCKETS, HealthReport, HealthRow
from newretail.supply.supplier import SupplierView


class HealthRowPublic(Public):
    key: str = Field(description="Store or DC id, material id, the week's Monday, or 'chain'.")
    in_stock_rate: float | None = Field(description="in_stock_days / stock_days (core materials).")
    stock_days: int
    in_stock_days: int
    days_of_inventory: float | None = Field(description="stock_value_minor / usage_cost_minor.")
    stock_value_minor: int = Field(description="Closing stock value summed over the days.")
    usage_cost_minor: int = Field(description="Cost of what was used, summed over the days.")
    material_sell_through: float | None = Field(description="materials_used / materials_held.")
    materials_held: int
    materials_used: int
    product_sell_through: float | None = Field(description="products_sold / products_listed.")
    products_listed: int | None
    products_sold: int | None
    waste_minor: dict[str, int] = Field(description="Waste cost by reason.")
    waste_total_minor: int
    aging_minor: dict[str, int] | None = Field(
        description="Stock value at the close of the period by days since receipt (FIFO)."
    )

    @classmethod
    def of(cls, row: HealthRow) -> HealthRowPublic:
        return cls(
            key=row.key,
            in_stock_rate=row.in_stock_rate,
            stock_days=row.stock_days,
            in_stock_days=row.in_stock_days,
            days_of_inventory=row.days_of_inventory,
            stock_value_minor=row.stock_value_minor,
            usage_cost_minor=row.usage_cost_minor,
            material_sell_through=row.material_sell_through,
            materials_held=row.materials_held,
            materials_used=row.materials_used,
            product_sell_through=row.product_sell_through,
            products_listed=row.products_listed,
            products_sold=row.products_sold,
            waste_minor=dict(row.waste_minor),
            waste_total_minor=row.waste_total_minor,
            aging_minor=None
            if row.aging_minor is None
            else dict(zip(AGE_BUCKETS, row.aging_minor, strict=True)),
        )


class HealthPublic(Public):
    first: dt.date
    last: dt.date
    group_by: Literal["store", "dc", "material", "week"]
    stores: list[str] | None = Field(description="The stores covered; null for the whole chain.")
    currency: str | None
    data: list[HealthRowPublic]
    count: int
    chain: HealthRowPublic
    weeks: list[HealthRowPublic]
    materials: list[HealthRowPublic]

    @classmethod
    def of(cls, report: HealthReport) -> HealthPublic:
        return cls(
            first=report.first,
            last=report.last,
            group_by=report.group_by,
            stores=None if report.stores is None else sorted(report.stores),
            currency=report.currency,
            data=[HealthRowPublic.of(r) for r in report.rows],
            count=len(report.rows),
            chain=HealthRowPublic.of(report.chain),
            weeks=[HealthRowPublic.of(r) for r in report.weeks],
            materials=[HealthRowPublic.of(r) for r in report.materials],
        )


class SupplierMaterialPublic(Public):
    material_id: str
    name: str
    pack_size: int
    shelf_life_days: int


class ForecastDayPublic(Public):
    material_id: str
    business_date: dt.date
    mean_quantity: float
    lo80_quantity: float
    hi80_quantity: float


class SupplierForecastPublic(Public):
    origin: dt.date
    model: str
    days: list[ForecastDayPublic]


class DcStockPublic(Public):
    dc_id: str
    material_id: str
    on_hand: int
    counted: bool
    in_transit: int


class DeliveryLinePublic(Public):
    po_id: str
    dc_id: str
    material_id: str
    ordered_on: dt.date
    expected_on: dt.date
    ordered_packs: int
    delivered_packs: int
    delivered_on: dt.date | None
    status: Literal["on_time", "late", "short"]


class DeliveriesPublic(Public):
    on_time: int
    late: int
    short: int
    on_time_rate: float | None
    lines: list[DeliveryLinePublic]


class SupplierPublic(Public):
    supplier_id: str
    as_of: dt.date
    materials: list[SupplierMaterialPublic]
    forecast: SupplierForecastPublic | None = Field(
        description="Demand summed over every store from the newest published run; null if none."
    )
    dc_stock: list[DcStockPublic]
    deliveries: DeliveriesPublic

    @classmethod
    def of(cls, view: SupplierView) -> SupplierPublic:
        timeliness = view.deliveries
        return cls(
            supplier_id=view.supplier_id,
            as_of=view.as_of,
            materials=[SupplierMaterialPublic.model_validate(m) for m in view.materials],
            forecast=None
            if view.forecast is None
            else SupplierForecastPublic.model_validate(view.forecast),
            dc_stock=[DcStockPublic.model_validate(s) for s in view.dc_stock],
            deliveries=DeliveriesPublic(
                on_time=timeliness.count("on_time"),
                late=timeliness.count("late"),
                short=timeliness.count("short"),
                on_time_rate=timeliness.on_time_rate,
                lines=[DeliveryLinePublic.model_validate(line) for line in timeliness.lines],
            ),
        )
