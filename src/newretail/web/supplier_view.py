"""The supplier page's view: one forecast chart per material (chain-wide mean and 80% band), DC stock
in base units and packs, and the delivery lines with their timeliness, formatted here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newretail.supply.supplier import SupplierView
from newretail.supply.supplier_deliveries import DeliveryLine, Status
from newretail.web.money import format_count

Translate = Callable[..., str]
DEFINITIONS = ("forecast", "dc_stock", "in_transit", "on_time", "late", "short")
STATUSES: tuple[Status, ...] = ("on_time", "late", "short")


@dataclass(frozen=True, slots=True)
class StockLine:
    dc_id: str
    material_id: str
    on_hand: str
    in_transit: str
    counted: bool


@dataclass(frozen=True, slots=True)
class SupplierPage:
    on_time_rate: str
    counts: dict[str, int]
    stock: list[StockLine]
    deliveries: tuple[DeliveryLine, ...]
    charts: dict[str, Any]
    forecast_materials: list[str]


def packs(units: int, pack_size: int, t: Translate) -> str:
    return t("supplier.units_packs", units=format_count(units), packs=f"{units / pack_size:,.1f}")


def build_page(view: SupplierView, t: Translate) -> SupplierPage:
    pack = {m.material_id: m.pack_size for m in view.materials}
    timeliness = view.deliveries
    rate = timeliness.on_time_rate
    stock = [
        StockLine(
            dc_id=s.dc_id,
            material_id=s.material_id,
            on_hand=packs(s.on_hand, pack[s.material_id], t),
            in_transit=packs(s.in_transit, pack[s.material_id], t),
            counted=s.counted,
        )
        for s in view.dc_stock
    ]
    charts: dict[str, Any] = {}
    if view.forecast is not None:
        for m in view.materials:
            days = [d for d in view.forecast.days if d.material_id == m.material_id]
            if not days:
                continue
            charts[m.material_id] = {
                "kind": "band",
                "categories": [d.business_date.isoformat() for d in days],
                "names": {"mean": t("supplier.forecast_mean"), "band": t("supplier.forecast_band")},
                "mean": [
                    {"value": d.mean_quantity, "label": format_count(round(d.mean_quantity))}
                    for d in days
                ],
                "lo": [d.lo80_quantity for d in days],
                "width": [
                    {
                        "value": d.hi80_quantity - d.lo80_quantity,
                        "label": f"{format_count(round(d.lo80_quantity))} – "
                        f"{format_count(round(d.hi80_quantity))}",
                    }
                    for d in days
                ],
            }
    return SupplierPage(
        on_time_rate="—" if rate is None else f"{rate * 100:.1f}%",
        counts={status: timeliness.count(status) for status in STATUSES},
        stock=stock,
        deliveries=timeliness.lines,
        charts=charts,
        forecast_materials=list(charts),
    )
