"""The reads behind the forecast view: a published run's ADS rows summed over a set of stores (bands
combined as if the stores' errors were independent), actual units and material use per day from DWS,
and the names of stores, products and materials from DWD."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.errors import NoData
from newretail.lake.storage import Lake
from newretail.model import dws as dws_model
from newretail.supply.forecast.publish import PublishedRun, latest_run, run_file
from newretail.supply.lake_reader import LakeReader, column_array

# None: every store of the chain; otherwise the stores to sum over.
Stores = tuple[str, ...] | None


@dataclass(frozen=True)
class BandPoint:
    """A forecast day: mean and the central 80% band."""

    business_date: dt.date
    mean: float
    lo80: float
    hi80: float


@dataclass(frozen=True)
class ActualPoint:
    business_date: dt.date
    value: float


def newest_run(lake: Lake) -> PublishedRun:
    """The newest published run; :class:`NoData` ``supply.no_forecast`` when there is none."""
    run = latest_run(lake)
    if run is None:
        raise NoData(
            "supply.no_forecast", "no forecast is published: run `newretail supply forecast` first"
        )
    return run


def ads_rows(
    lake: Lake,
    table: str,
    origin: dt.date,
    *,
    columns: list[str],
    where: pc.Expression | None = None,
) -> pa.Table:
    """Columns of one run's ADS ``table``, filtered while reading."""
    return pq.read_table(run_file(lake, table, origin), columns=columns, filters=where)


def in_stores(column: str, stores: Stores, where: pc.Expression | None = None) -> pc.Expression:
    """``where`` (or true) and, unless ``stores`` is None, ``column`` among ``stores``."""
    expr = pc.scalar(True) if where is None else where
    if stores is None:
        return expr
    return expr & pc.field(column).isin(pa.array(stores, pa.string()))


def summed_band(rows: pa.Table, *, mean: str, lo: str, hi: str) -> tuple[BandPoint, ...]:
    """Per day: means summed, and each side of the band the root of the summed squares of the
    stores' half-widths (independent errors; for one store the band is its own)."""
    if rows.num_rows == 0:
        return ()
    dates = column_array(rows, "business_date")
    days, where = np.unique(dates, return_inverse=True)
    m = rows.column(mean).to_numpy()
    down = (m - rows.column(lo).to_numpy()) ** 2
    up = (rows.column(hi).to_numpy() - m) ** 2
    totals = np.zeros((3, len(days)))
    for i, values in enumerate((m, down, up)):
        np.add.at(totals[i], where, values)
    return tuple(
        BandPoint(
            business_date=day.item(),
            mean=float(total),
            lo80=float(total - np.sqrt(d)),
            hi80=float(total + np.sqrt(u)),
        )
        for day, total, d, u in zip(days, totals[0], totals[1], totals[2], strict=True)
    )


def sales_days(lake: Lake) -> tuple[dt.date, dt.date] | None:
    """The oldest and newest business dates of DWS ``store_product_day``, if it has any."""
    dates = [p["business_date"] for p in lake.partitions("dws", "store_product_day")]
    if not dates:
        return None
    return dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))


def daily_units(
    reader: LakeReader,
    *,
    stores: Stores,
    first: dt.date,
    last: dt.date,
    product_id: str | None = None,
) -> tuple[ActualPoint, ...]:
    """Units sold per day (completed orders, DWS ``store_product_day``) over ``stores``, of one
    product or all of them; a day without sales is 0."""
    spd = _window(reader, "store_product_day", first, last)
    keep = (spd.business_date >= first) & (spd.business_date <= last)
    if stores is not None:
        keep &= spd.store_id.isin(list(stores))
    if product_id is not None:
        keep &= spd.product_id == product_id
    rows = reader.run(
        spd.filter(keep).group_by("business_date").aggregate(value=spd.units.sum()), "actual units"
    )
    return _every_day(rows, first, last)


def daily_use(
    reader: LakeReader, *, stores: Stores, material_id: str, first: dt.date, last: dt.date
) -> tuple[ActualPoint, ...]:
    """Base units of a material consumed making products per day (DWS ``store_material_day``
    consumption, sign flipped) at ``stores``; a day without rows is 0."""
    smd = _window(reader, "store_material_day", first, last)
    keep = (
        (smd.location_type == "store")
        & (smd.material_id == material_id)
        & (smd.business_date >= first)
        & (smd.business_date <= last)
    )
    if stores is not None:
        keep &= smd.location_id.isin(list(stores))
    expr: ir.Table = (
        smd.filter(keep).group_by("business_date").aggregate(value=(-smd.consumption).sum())
    )
    return _every_day(reader.run(expr, "material use"), first, last)


def _window(reader: LakeReader, name: str, first: dt.date, last: dt.date) -> ir.Table:
    """A DWS table partitioned by day, reading only the partitions from ``first`` to ``last``."""
    lake, spec = reader.lake, dws_model.table(name)
    low, high = first.isoformat(), last.isoformat()
    files = [f for f in lake.files("dws", name) if low <= f.parent.name.partition("=")[2] <= high]
    return reader.runner.read(files, base=lake.table_dir("dws", name), schema=spec.schema)


def _every_day(rows: pa.Table, first: dt.date, last: dt.date) -> tuple[ActualPoint, ...]:
    found = {
        day: float(value or 0)
        for day, value in zip(
            rows.column("business_date").to_pylist(), rows.column("value").to_pylist(), strict=True
        )
    }
    count = (last - first).days + 1
    days = (first + dt.timedelta(days=i) for i in range(count))
    return tuple(ActualPoint(d, found.get(d, 0.0)) for d in days)


@dataclass(frozen=True)
class Names:
    """Display names by id from DWD: stores, products (Chinese and English) and materials (with
    their base unit and whether they are core)."""

    stores: dict[str, str]
    products: dict[str, tuple[str, str]]
    materials: dict[str, tuple[str, str, bool]]


def names(reader: LakeReader) -> Names:
    return Names(
        stores={str(r["store_id"]): str(r["name"]) for r in _rows(reader, "stores", "store_id")},
        products={
            str(r["product_id"]): (str(r["name"]), str(r["name_en"] or r["name"]))
            for r in _rows(reader, "products", "product_id", "name_en")
        },
        materials=material_names(reader),
    )


def material_names(reader: LakeReader) -> dict[str, tuple[str, str, bool]]:
    """Material id -> (name, base unit, is core)."""
    return {
        str(r["material_id"]): (str(r["name"]), str(r["unit"]), bool(r["is_core"]))
        for r in _rows(reader, "materials", "material_id", "unit", "is_core")
    }


def _rows(reader: LakeReader, table: str, key: str, *more: str) -> list[dict[str, object]]:
    if not reader.has("dwd", table):
        return []
    return reader.run(reader.table("dwd", table).select(key, "name", *more), table).to_pylist()
