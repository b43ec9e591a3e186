"""The forecast as the console and the API show it: for one store, or the sum of every store the
viewer may see, eight weeks of actual units beside the newest published run's daily forecast and its
80% band; the same for one product and for one material; and tomorrow's hourly prep curve.

Store sums add the means and combine the bands' half-widths in quadrature (stores' errors taken as
independent). The caller passes the stores the viewer may see (None: the whole chain).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newretail.config import Engine as EngineName
from newretail.errors import Forbidden, NotFound
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.forecast.publish import PublishedRun
from newretail.supply.forecast.view_reads import (
    ActualPoint,
    BandPoint,
    Names,
    Stores,
    ads_rows,
    daily_units,
    daily_use,
    in_stores,
    names,
    newest_run,
    sales_days,
    summed_band,
)
from newretail.supply.lake_reader import LakeReader

ACTUAL_DAYS = 56


@dataclass(frozen=True)
class Choice:
    """Something to pick on the page: a store, a product or a material (``unit``: base unit)."""

    id: str
    name: str
    name_en: str
    unit: str = ""


@dataclass(frozen=True)
class Series:
    actual: tuple[ActualPoint, ...]
    forecast: tuple[BandPoint, ...]


@dataclass(frozen=True)
class Focus:
    """The chosen product or material and its series."""

    choice: Choice
    series: Series


@dataclass(frozen=True)
class ForecastView:
    run: PublishedRun
    store_id: str | None  # None: the sum over ``stores``
    stores: tuple[Choice, ...]
    total: Series  # units of every product
    products: tuple[Choice, ...]
    product: Focus | None
    materials: tuple[Choice, ...]
    material: Focus | None  # base units
    prep_date: dt.date
    prep_units: tuple[float, ...]  # units per local hour 0..23 on ``prep_date``


def forecast_view(
    lake: Lake,
    *,
    engine: EngineName,
    allowed: Collection[str] | None,
    store_id: str | None = None,
    product_id: str | None = None,
    material_id: str | None = None,
) -> ForecastView:
    """The view for ``store_id`` (default: every store in ``allowed``, or the chain when that is
    None), the product and material asked for (default: the product with the most forecast units
    and the first core material)."""
    if store_id is not None and allowed is not None and store_id not in allowed:
        raise Forbidden("auth.store_denied", f"store {store_id} is outside your store scope")
    run = newest_run(lake)
    store_rows = ads_rows(
        lake,
        "store_forecast",
        run.origin,
        columns=["store_id", "business_date", "mean_units", "lo80_units", "hi80_units"],
    )
    in_run = {str(s) for s in store_rows.column("store_id").to_pylist()}
    if store_id is not None and store_id not in in_run:
        raise NotFound(
            "supply.unknown_store", f"the forecast has no store {store_id}", field="store_id"
        )
    visible = sorted(s for s in in_run if allowed is None or s in allowed)
    stores: Stores = (store_id,) if store_id else (None if allowed is None else tuple(visible))
    first, last = _actual_window(lake, run)
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        known = names(reader)
        total = Series(
            daily_units(reader, stores=stores, first=first, last=last),
            summed_band(
                store_rows.filter(in_stores("store_id", stores)),
                mean="mean_units",
                lo="lo80_units",
                hi="hi80_units",
            ),
        )
        products, product = _product(lake, run, reader, known, stores, product_id, first, last)
        materials, material = _material(lake, run, reader, known, stores, material_id, first, last)
    prep_date = run.origin + dt.timedelta(days=1)
    return ForecastView(
        run=run,
        store_id=store_id,
        stores=tuple(Choice(s, known.stores.get(s, s), known.stores.get(s, s)) for s in visible),
        total=total,
        products=products,
        product=product,
        materials=materials,
        material=material,
        prep_date=prep_date,
        prep_units=_prep_curve(lake, run, stores, prep_date),
    )


def _actual_window(lake: Lake, run: PublishedRun) -> tuple[dt.date, dt.date]:
    """Up to eight weeks of days with sales, ending on the newest (sales that came in after the
    run overlap its forecast, up to its last day)."""
    oldest, newest = sales_days(lake) or (run.origin, run.origin)
    last = min(newest, run.origin + dt.timedelta(days=run.horizon))
    return max(oldest, last - dt.timedelta(days=ACTUAL_DAYS - 1)), last


def _product(
    lake: Lake,
    run: PublishedRun,
    reader: LakeReader,
    known: Names,
    stores: Stores,
    product_id: str | None,
    first: dt.date,
    last: dt.date,
) -> tuple[tuple[Choice, ...], Focus | None]:
    rows = ads_rows(
        lake,
        "demand_forecast",
        run.origin,
        columns=["product_id", "business_date", "mean_units", "lo80_units", "hi80_units"],
        where=in_stores("store_id", stores),
    )
    sums = rows.group_by("product_id").aggregate([("mean_units", "sum")])
    volume = dict(
        zip(
            sums.column("product_id").to_pylist(),
            sums.column("mean_units_sum").to_pylist(),
            strict=True,
        )
    )
    choices = tuple(
        Choice(p, *known.products.get(p, (p, p))) for p in sorted(str(p) for p in volume)
    )
    chosen = product_id or (max(volume, key=lambda p: (volume[p], p)) if volume else None)
    if chosen is None:
        return choices, None
    if chosen not in volume:
        raise NotFound(
            "supply.unknown_product", f"the forecast has no product {chosen}", field="product_id"
        )
    band = summed_band(
        rows.filter(pc.field("product_id") == chosen),
        mean="mean_units",
        lo="lo80_units",
        hi="hi80_units",
    )
    actual = daily_units(reader, stores=stores, first=first, last=last, product_id=chosen)
    choice = next(c for c in choices if c.id == chosen)
    return choices, Focus(choice, Series(actual, band))


def _material(
    lake: Lake,
    run: PublishedRun,
    reader: LakeReader,
    known: Names,
    stores: Stores,
    material_id: str | None,
    first: dt.date,
    last: dt.date,
) -> tuple[tuple[Choice, ...], Focus | None]:
    rows = ads_rows(
        lake,
        "material_forecast",
        run.origin,
        columns=["material_id", "business_date", "mean_quantity", "lo80_quantity", "hi80_quantity"],
        where=in_stores("location_id", stores),
    )
    ids = sorted({str(m) for m in rows.column("material_id").to_pylist()})
    choices = tuple(
        Choice(m, known.materials[m][0], known.materials[m][0], known.materials[m][1])
        if m in known.materials
        else Choice(m, m, m)
        for m in ids
    )
    core = [m for m in ids if known.materials.get(m, ("", "", False))[2]]
    chosen = material_id or next(iter(core or ids), None)
    if chosen is None:
        return choices, None
    if chosen not in ids:
        raise NotFound(
            "supply.unknown_material",
            f"the forecast has no material {chosen}",
            field="material_id",
        )
    band = summed_band(
        rows.filter(pc.field("material_id") == chosen),
        mean="mean_quantity",
        lo="lo80_quantity",
        hi="hi80_quantity",
    )
    actual = daily_use(reader, stores=stores, material_id=chosen, first=first, last=last)
    choice = next(c for c in choices if c.id == chosen)
    return choices, Focus(choice, Series(actual, band))


def _prep_curve(lake: Lake, run: PublishedRun, stores: Stores, day: dt.date) -> tuple[float, ...]:
    rows = ads_rows(
        lake,
        "hourly_forecast",
        run.origin,
        columns=["business_hour", "mean_units"],
        where=in_stores("store_id", stores, pc.field("business_date") == pa.scalar(day)),
    )
    units = np.zeros(24)
    np.add.at(
        units,
        rows.column("business_hour").to_numpy().astype(np.int64),
        rows.column("mean_units").to_numpy(),
    )
    return tuple(float(u) for u in units)
