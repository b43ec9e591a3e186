"""The supplier view (G11): what one supplier may see of the chain — its own materials' demand
forecast summed over every store, their stock and inbound orders at the DCs, and how its recent
deliveries kept time. Nothing per store, nothing of another supplier's materials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.config import Engine as EngineName
from newretail.errors import NotFound
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.forecast.publish import PublishedRun, published_runs, run_file
from newretail.supply.forecast.run import INTERVAL
from newretail.supply.history import Goods, load_history
from newretail.supply.lake_reader import LakeReader
from newretail.supply.replenish.position import StockAt, stock_at
from newretail.supply.supplier_deliveries import Timeliness, delivery_lines

DELIVERY_DAYS = 28
DAYS_AHEAD = 14


@dataclass(frozen=True)
class SupplierMaterial:
    material_id: str
    name: str
    pack_size: int
    shelf_life_days: int


@dataclass(frozen=True)
class ForecastDay:
    """Chain-wide demand for a material on one day, base units, with its 80% band (stores'
    errors taken as independent, so the band is the narrowest it could be)."""

    material_id: str
    business_date: dt.date
    mean_quantity: float
    lo80_quantity: float
    hi80_quantity: float


@dataclass(frozen=True)
class SupplierForecast:
    origin: dt.date
    model: str
    days: tuple[ForecastDay, ...]


@dataclass(frozen=True)
class DcStock:
    """A material at a DC at the close of ``as_of``: on hand, and ordered but not yet received."""

    dc_id: str
    material_id: str
    on_hand: int
    counted: bool
    in_transit: int


@dataclass(frozen=True)
class SupplierView:
    supplier_id: str
    as_of: dt.date
    materials: tuple[SupplierMaterial, ...]
    forecast: SupplierForecast | None  # None: no forecast run published on or before as_of
    dc_stock: tuple[DcStock, ...]
    deliveries: Timeliness


def supplier_view(
    lake: Lake, *, engine: EngineName, supplier_id: str, as_of: dt.date
) -> SupplierView:
    """The view of ``supplier_id`` at the close of ``as_of``; :class:`NotFound` for a supplier the
    lake does not know."""
    history = load_history(lake, engine=engine, days=1)
    suppliers = [str(s) for s in history.network.supplier_ids]
    if supplier_id not in suppliers:
        raise NotFound("supply.unknown_supplier", f"no supplier {supplier_id}", field="supplier_id")
    goods = history.goods
    own = np.flatnonzero(goods.material_supplier == suppliers.index(supplier_id))
    materials = tuple(
        SupplierMaterial(
            material_id=str(goods.material_ids[m]),
            name=str(goods.material_names[m]),
            pack_size=int(goods.pack_size[m]),
            shelf_life_days=int(goods.shelf_life_days[m]),
        )
        for m in own
    )
    warehouses = stock_at(
        lake,
        engine=engine,
        goods=goods,
        location_type="warehouse",
        location_ids=history.network.dc_ids,
        as_of=as_of,
        days_ahead=DAYS_AHEAD,
    )
    with connect_engine(engine) as runner:
        deliveries = delivery_lines(
            LakeReader(lake, runner), supplier_id=supplier_id, as_of=as_of, days=DELIVERY_DAYS
        )
    return SupplierView(
        supplier_id=supplier_id,
        as_of=as_of,
        materials=materials,
        forecast=_forecast(lake, {m.material_id for m in materials}, as_of),
        dc_stock=_dc_stock(goods, own, warehouses),
        deliveries=deliveries,
    )


def known_suppliers(lake: Lake, *, engine: EngineName) -> list[tuple[str, str]]:
    """Every supplier in the lake as (id, name), for a planner choosing whose view to open."""
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        if not reader.has("dwd", "suppliers"):
            return []
        suppliers = reader.table("dwd", "suppliers")
        rows = reader.run(
            suppliers.select("supplier_id", "name").order_by("supplier_id"), "suppliers"
        ).to_pylist()
    return [(r["supplier_id"], r["name"]) for r in rows]


def _dc_stock(goods: Goods, own: np.ndarray, stock: StockAt) -> tuple[DcStock, ...]:
    transit = stock.in_transit.sum(axis=2)
    return tuple(
        DcStock(
            dc_id=str(dc),
            material_id=str(goods.material_ids[m]),
            on_hand=int(stock.on_hand[i, m]),
            counted=bool(stock.counted[i, m]),
            in_transit=int(transit[i, m]),
        )
        for i, dc in enumerate(stock.location_ids)
        for m in own
    )


def _forecast(lake: Lake, materials: set[str], as_of: dt.date) -> SupplierForecast | None:
    run = _newest_run(lake, as_of)
    if run is None:
        return None
    table = pq.read_table(
        run_file(lake, "material_forecast", run.origin),
        columns=["material_id", "business_date", "mean_quantity", "sigma_quantity"],
    )
    table = table.filter(pc.is_in(table["material_id"], pa.array(sorted(materials), pa.string())))
    summed = (
        table.append_column(
            "variance", pc.multiply(table["sigma_quantity"], table["sigma_quantity"])
        )
        .group_by(["material_id", "business_date"])
        .aggregate([("mean_quantity", "sum"), ("variance", "sum")])
        .sort_by([("material_id", "ascending"), ("business_date", "ascending")])
    )
    z = NormalDist().inv_cdf(0.5 + INTERVAL / 2)
    days = []
    for row in summed.to_pylist():
        mean, sigma = float(row["mean_quantity_sum"]), float(row["variance_sum"]) ** 0.5
        days.append(
            ForecastDay(
                material_id=row["material_id"],
                business_date=row["business_date"],
                mean_quantity=mean,
                lo80_quantity=max(mean - z * sigma, 0.0),
                hi80_quantity=mean + z * sigma,
            )
        )
    return SupplierForecast(origin=run.origin, model=run.model, days=tuple(days))


def _newest_run(lake: Lake, as_of: dt.date) -> PublishedRun | None:
    """The newest run made from data up to ``as_of`` (a later one would look into the future)."""
    return next((run for run in published_runs(lake) if run.origin <= as_of), None)
