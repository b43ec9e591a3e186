"""What supply planning knows from the lake: the network (stores, DCs, suppliers), the goods and their
bill of materials, and daily sales per store and product with the days a stock-out cut them short.

Everything is read through the lake's engine (DuckDB or Spark) and comes back as numpy arrays on
fixed axes (stores, products, materials, days), the shape the forecaster and the planner work in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from newretail.config import Engine as EngineName
from newretail.errors import InvalidInput, NoData
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.bom import flatten_bom
from newretail.supply.lake_reader import LakeReader, column_array
from newretail.supply.promotions import Coupons, load_coupons


@dataclass(frozen=True)
class Network:
    """Stores, DCs and suppliers on fixed axes; lead times in days."""

    store_ids: np.ndarray  # str (S,)
    store_city: np.ndarray  # str (S,)
    store_country: np.ndarray  # str (S,)
    store_currency: np.ndarray  # str (S,) the currency the store trades in
    store_format: np.ndarray  # str (S,)
    store_opened: np.ndarray  # datetime64[D] (S,)
    store_closed: np.ndarray  # datetime64[D] (S,), NaT while open
    store_lat: np.ndarray
    store_lon: np.ndarray
    store_dc: np.ndarray  # int (S,) index into dc_ids
    store_lead_days: np.ndarray  # int (S,): the serving DC's lead time to the store
    dc_ids: np.ndarray  # str (W,)
    dc_lat: np.ndarray
    dc_lon: np.ndarray
    dc_capacity_pallets: np.ndarray  # int (W,), 0 where not reported
    supplier_ids: np.ndarray  # str (V,)
    supplier_lead_days: np.ndarray  # int (V,)
    supplier_min_packs: np.ndarray  # int (V,)


@dataclass(frozen=True)
class Goods:
    """Products, materials and the bill of materials between them."""

    product_ids: np.ndarray  # str (P,)
    product_names: np.ndarray  # str (P,), English where known
    product_category: np.ndarray  # str (P,)
    product_subcategory: np.ndarray  # str (P,)
    product_launched: np.ndarray  # datetime64[D] (P,)
    product_retired: np.ndarray  # datetime64[D] (P,), NaT while on the menu
    material_ids: np.ndarray  # str (M,)
    material_names: np.ndarray  # str (M,)
    pack_size: np.ndarray  # int (M,) base units per pack
    shelf_life_days: np.ndarray  # int (M,)
    is_core: np.ndarray  # bool (M,)
    pack_cost_minor: np.ndarray  # int (M,)
    material_supplier: np.ndarray  # int (M,) index into Network.supplier_ids
    bom: np.ndarray  # int (P, M) base units of each material per unit of product


@dataclass(frozen=True)
class Sales:
    """Units sold per day, store and product (D, S, P); ``censored`` marks cells a stock-out cut."""

    first: dt.date
    units: np.ndarray  # int64 (D, S, P)
    censored: np.ndarray  # bool (D, S, P): a material the product needs ran out that day
    on_sale: np.ndarray  # bool (D, S, P): the store was open and the product on the menu

    @property
    def days(self) -> int:
        return int(self.units.shape[0])

    @property
    def last(self) -> dt.date:
        return self.first + dt.timedelta(days=self.days - 1)

    def dates(self) -> np.ndarray:
        return np.datetime64(self.first, "D") + np.arange(self.days)


@dataclass(frozen=True)
class Weather:
    """Daily mean temperature and rain per city (D, C) over the sales days."""

    cities: np.ndarray  # str (C,)
    temp_c: np.ndarray  # float (D, C), NaN where not reported
    rain: np.ndarray  # float (D, C): 1 rain, 0 dry, NaN not reported


@dataclass(frozen=True)
class History:
    network: Network
    goods: Goods
    sales: Sales
    weather: Weather | None
    coupons: Coupons | None = None


def load_history(
    lake: Lake, *, engine: EngineName, last: dt.date | None = None, days: int | None = None
) -> History:
    """The lake's network, goods and sales up to ``last`` (default: the newest day), ``days`` long."""
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        network = _network(reader)
        goods = _goods(reader, network)
        sales = _sales(reader, network, goods, last=last, days=days)
        weather = _weather(reader, sales)
        coupons = load_coupons(reader, network.store_ids, sales.first, sales.last)
    return History(network, goods, sales, weather, coupons)


def _network(reader: LakeReader) -> Network:
    for name in ("stores", "warehouses", "suppliers"):
        if not reader.has("dwd", name):
            raise NoData("supply.no_network", f"the lake has no {name}: ingest and build first")
    stores = reader.run(reader.table("dwd", "stores").order_by("store_id"), "stores")
    dcs = reader.run(reader.table("dwd", "warehouses").order_by("warehouse_id"), "warehouses")
    suppliers = reader.run(reader.table("dwd", "suppliers").order_by("supplier_id"), "suppliers")
    dc_ids = column_array(dcs, "warehouse_id").astype(str)
    dc_index = {d: i for i, d in enumerate(dc_ids)}
    store_dc = []
    for store, dc in zip(
        stores.column("store_id").to_pylist(),
        stores.column("warehouse_id").to_pylist(),
        strict=True,
    ):
        if dc not in dc_index:
            raise InvalidInput(
                "supply.unknown_dc", f"store {store} is served by unknown DC {dc}", field=store
            )
        store_dc.append(dc_index[dc])
    lead = _required_ints(dcs, "lead_time_days", "warehouse_id", "lead time")
    store_dc_arr = np.array(store_dc, dtype=np.int64)
    return Network(
        store_ids=column_array(stores, "store_id").astype(str),
        store_city=column_array(stores, "city").astype(str),
        store_country=column_array(stores, "country").astype(str),
        store_currency=column_array(stores, "currency").astype(str),
        store_format=column_array(stores, "format").astype(str),
        store_opened=column_array(stores, "opened_on"),
        store_closed=column_array(stores, "closed_on"),
        store_lat=column_array(stores, "latitude").astype(float),
        store_lon=column_array(stores, "longitude").astype(float),
        store_dc=store_dc_arr,
        store_lead_days=lead[store_dc_arr],
        dc_ids=dc_ids,
        dc_lat=column_array(dcs, "latitude").astype(float),
        dc_lon=column_array(dcs, "longitude").astype(float),
        dc_capacity_pallets=np.nan_to_num(
            column_array(dcs, "capacity_pallets").astype(float)
        ).astype(np.int64),
        supplier_ids=column_array(suppliers, "supplier_id").astype(str),
        supplier_lead_days=_required_ints(suppliers, "lead_time_days", "supplier_id", "lead time"),
        supplier_min_packs=np.nan_to_num(
            column_array(suppliers, "min_order_packs").astype(float), nan=0
        ).astype(np.int64),
    )


def _required_ints(table: pa.Table, column: str, key: str, what: str) -> np.ndarray:
    """A column every row must have (a lead time, a pack size): a missing one names its row."""
    values = table.column(column)
    for ident, value in zip(table.column(key).to_pylist(), values.to_pylist(), strict=True):
        if value is None or value < 0:
            raise InvalidInput(
                f"supply.missing_{column}",
                f"{what} missing or negative for {ident}",
                field=str(ident),
            )
    return column_array(table, column).astype(np.int64)


def _goods(reader: LakeReader, network: Network) -> Goods:
    for name in ("products", "materials", "bill_of_materials"):
        if not reader.has("dwd", name):
            raise NoData("supply.no_goods", f"the lake has no {name}: ingest and build first")
    products = reader.run(reader.table("dwd", "products").order_by("product_id"), "products")
    materials = reader.run(reader.table("dwd", "materials").order_by("material_id"), "materials")
    bom_rows = reader.run(reader.table("dwd", "bill_of_materials"), "bill of materials")
    product_ids = column_array(products, "product_id").astype(str)
    material_ids = column_array(materials, "material_id").astype(str)
    bom = flatten_bom(
        zip(
            [str(p) for p in bom_rows.column("product_id").to_pylist()],
            [str(m) for m in bom_rows.column("material_id").to_pylist()],
            [int(q) if q is not None else -1 for q in bom_rows.column("quantity").to_pylist()],
            strict=True,
        ),
        product_ids=product_ids,
        material_ids=material_ids,
    )
    supplier_index = {v: i for i, v in enumerate(network.supplier_ids)}
    material_supplier = []
    for m, v in zip(material_ids, materials.column("supplier_id").to_pylist(), strict=True):
        if v not in supplier_index:
            raise InvalidInput(
                "supply.unknown_supplier", f"material {m} names unknown supplier {v}", field=m
            )
        material_supplier.append(supplier_index[v])
    pack = _required_ints(materials, "pack_size", "material_id", "pack size")
    if (pack == 0).any():
        bad = material_ids[np.flatnonzero(pack == 0)[0]]
        raise InvalidInput(
            "supply.missing_pack_size", f"pack size missing or zero for {bad}", field=str(bad)
        )
    names = products.column("name_en").to_pylist()
    return Goods(
        product_ids=product_ids,
        product_names=np.array(
            [n or z for n, z in zip(names, products.column("name").to_pylist(), strict=True)]
        ),
        product_category=column_array(products, "category").astype(str),
        product_subcategory=np.array([s or "" for s in products.column("subcategory").to_pylist()]),
        product_launched=column_array(products, "launched_on"),
        product_retired=column_array(products, "retired_on"),
        material_ids=material_ids,
        material_names=column_array(materials, "name").astype(str),
        pack_size=pack,
        shelf_life_days=_required_ints(materials, "shelf_life_days", "material_id", "shelf life"),
        is_core=np.array([bool(c) for c in materials.column("is_core").to_pylist()]),
        pack_cost_minor=np.nan_to_num(
            column_array(materials, "pack_cost_minor").astype(float)
        ).astype(np.int64),
        material_supplier=np.array(material_supplier, dtype=np.int64),
        bom=bom,
    )


def _date_bounds(
    reader: LakeReader, last: dt.date | None, days: int | None
) -> tuple[dt.date, dt.date]:
    spd = reader.table("dws", "store_product_day")
    bounds = reader.run(
        spd.aggregate(first=spd.business_date.min(), last=spd.business_date.max()), "date range"
    ).to_pylist()[0]
    if bounds["first"] is None:
        raise NoData("supply.no_sales", "the lake has no sales: ingest and build first")
    newest: dt.date = bounds["last"] if last is None else min(last, bounds["last"])
    first: dt.date = bounds["first"]
    if days is not None:
        first = max(first, newest - dt.timedelta(days=days - 1))
    if newest < first:
        raise NoData("supply.no_sales", f"no sales on or before {last}")
    return first, newest


def _sales(
    reader: LakeReader, network: Network, goods: Goods, *, last: dt.date | None, days: int | None
) -> Sales:
    if not reader.has("dws", "store_product_day"):
        raise NoData("supply.no_sales", "the lake has no sales: ingest and build first")
    first, newest = _date_bounds(reader, last, days)
    n_days = (newest - first).days + 1
    spd = reader.table("dws", "store_product_day")
    window = (spd.business_date >= first) & (spd.business_date <= newest)
    rows = reader.run(
        spd.filter(window)
        .group_by(["business_date", "store_id", "product_id"])
        .aggregate(units=spd.units.sum()),
        "sales",
    )
    s_index = {s: i for i, s in enumerate(network.store_ids)}
    p_index = {p: i for i, p in enumerate(goods.product_ids)}
    units = np.zeros((n_days, len(s_index), len(p_index)), dtype=np.int64)
    day, store, product = _cells(rows, first, s_index, "product_id", p_index)
    units[day, store, product] = np.nan_to_num(column_array(rows, "units").astype(float)).astype(
        np.int64
    )
    return Sales(
        first=first,
        units=units,
        censored=_censored(reader, goods, first, newest, s_index, units.shape),
        on_sale=on_sale(network, goods, np.datetime64(first, "D") + np.arange(n_days)),
    )


def _cells(
    rows: pa.Table, first: dt.date, s_index: dict[str, int], column: str, p_index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = column_array(rows, "business_date")
    day = (dates - np.datetime64(first, "D")).astype(np.int64)
    store = np.array(
        [s_index.get(str(s), -1) for s in rows.column("store_id").to_pylist()], dtype=np.int64
    )
    product = np.array(
        [p_index.get(str(p), -1) for p in rows.column(column).to_pylist()], dtype=np.int64
    )
    keep = (store >= 0) & (product >= 0)
    return day[keep], store[keep], product[keep]


def _censored(
    reader: LakeReader,
    goods: Goods,
    first: dt.date,
    last: dt.date,
    s_index: dict[str, int],
    shape: tuple[int, ...],
) -> np.ndarray:
    """Store-product-days on which a material of the product ran out: sales understate demand."""
    if not reader.has("dws", "store_material_day"):
        return np.zeros(shape, dtype=bool)
    smd = reader.table("dws", "store_material_day")
    rows = reader.run(
        smd.filter(
            (smd.location_type == "store")
            & smd.stock_out
            & (smd.business_date >= first)
            & (smd.business_date <= last)
        ).select("business_date", store_id=smd.location_id, material_id=smd.material_id),
        "stock-outs",
    )
    m_index = {m: i for i, m in enumerate(goods.material_ids)}
    day, store, material = _cells(rows, first, s_index, "material_id", m_index)
    out = np.zeros((shape[0], shape[1], len(m_index)), dtype=bool)
    out[day, store, material] = True
    uses = (goods.bom > 0).astype(np.int32)  # (P, M)
    censored: np.ndarray = (out.astype(np.int32) @ uses.T) > 0  # (D, S, P)
    return censored


def on_sale(network: Network, goods: Goods, dates: np.ndarray) -> np.ndarray:
    """(D, S, P): the store is open and the product on the menu on each of ``dates``."""
    never = np.datetime64("9999-12-31")
    store_open = (network.store_opened[None, :] <= dates[:, None]) & (
        dates[:, None] <= np.where(np.isnat(network.store_closed), never, network.store_closed)
    )
    listed = (goods.product_launched[None, :] <= dates[:, None]) & (
        dates[:, None] <= np.where(np.isnat(goods.product_retired), never, goods.product_retired)
    )
    selling: np.ndarray = store_open[:, :, None] & listed[:, None, :]
    return selling


def _weather(reader: LakeReader, sales: Sales) -> Weather | None:
    if not reader.has("dwd", "weather"):
        return None
    weather = reader.table("dwd", "weather")
    rows = reader.run(
        weather.filter(
            (weather.business_date >= sales.first) & (weather.business_date <= sales.last)
        ).select("city", "business_date", "temp_c", "rain"),
        "weather",
    )
    cities = np.unique(column_array(rows, "city").astype(str))
    c_index = {c: i for i, c in enumerate(cities)}
    temp = np.full((sales.days, len(cities)), np.nan)
    rain = np.full((sales.days, len(cities)), np.nan)
    day = (column_array(rows, "business_date") - np.datetime64(sales.first, "D")).astype(np.int64)
    city = np.array([c_index[c] for c in rows.column("city").to_pylist()], dtype=np.int64)
    temp[day, city] = column_array(rows, "temp_c").astype(float)
    rain[day, city] = column_array(rows, "rain").astype(float)
    return Weather(cities, temp, rain)


def as_dict(history: History) -> dict[str, Any]:
    """Sizes for logs and reports."""
    return {
        "stores": len(history.network.store_ids),
        "products": len(history.goods.product_ids),
        "materials": len(history.goods.material_ids),
        "days": history.sales.days,
        "first": history.sales.first.isoformat(),
        "last": history.sales.last.isoformat(),
        "weather": history.weather is not None,
    }
