"""Writes the ERP's dimension exports: stores, DCs, suppliers, products, prices, materials and BOM."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.sim.catalog import NEVER, SUPPLIERS
from newretail.sim.geography import CITIES, WAREHOUSES
from newretail.sim.stores import FORMATS
from newretail.sim.text import dates, money, nullable
from newretail.sim.world import World
from newretail.sim.writers import Output


def write_dimensions(out: Output, world: World) -> None:
    s, cat, d0 = world.stores, world.catalog, world.start_epoch_day
    cities = [CITIES[c] for c in s.city]
    out.csv(
        "erp.stores",
        "erp/stores.csv",
        {
            "store_code": pa.array(s.ids),
            "store_name": pa.array(s.names),
            "city": pa.array([c.name for c in cities]),
            "country": pa.array([c.country for c in cities]),
            "tz": pa.array([c.timezone for c in cities]),
            "currency": pa.array([c.currency for c in cities]),
            "format": pa.array([FORMATS[f] for f in s.format]),
            "area_m2": pa.array(s.area_m2),
            "seats": pa.array(s.seats),
            "open_date": dates(d0 + s.open_day),
            "close_date": nullable(
                dates(d0 + np.minimum(s.close_day, 10_000)), s.close_day < NEVER
            ),
            "lat": pa.array(s.latitude),
            "lng": pa.array(s.longitude),
            "dc_code": pa.array([WAREHOUSES[w].warehouse_id for w in s.warehouse]),
        },
    )
    w = WAREHOUSES
    out.csv(
        "erp.warehouses",
        "erp/warehouses.csv",
        {
            "dc_code": pa.array([x.warehouse_id for x in w]),
            "dc_name": pa.array([x.name for x in w]),
            "city": pa.array([x.city for x in w]),
            "country": pa.array([x.country for x in w]),
            "tz": pa.array([x.timezone for x in w]),
            "lat": pa.array([x.latitude for x in w]),
            "lng": pa.array([x.longitude for x in w]),
            "lead_days": pa.array([x.lead_time_days for x in w]),
            "pallets": pa.array([x.capacity_pallets for x in w]),
        },
    )
    out.csv(
        "erp.suppliers",
        "erp/suppliers.csv",
        {
            "vendor_code": pa.array([v.supplier_id for v in SUPPLIERS]),
            "vendor_name": pa.array([v.name for v in SUPPLIERS]),
            "country": pa.array([v.country for v in SUPPLIERS]),
            "lead_days": pa.array([v.lead_time_days for v in SUPPLIERS]),
            "moq_packs": pa.array([v.min_order_packs for v in SUPPLIERS]),
        },
    )
    p = cat.products
    out.csv(
        "erp.products",
        "erp/products.csv",
        {
            "sku": pa.array([x.product_id for x in p]),
            "name_cn": pa.array([x.name for x in p]),
            "name_en": pa.array([x.name_en for x in p]),
            "category": pa.array([x.category for x in p]),
            "subcategory": pa.array([x.subcategory for x in p]),
            "launch_date": dates(d0 + cat.first_day),
            "retire_date": nullable(
                dates(d0 + np.minimum(cat.last_day, 10_000)), cat.last_day < NEVER
            ),
            "is_new": pa.array(np.where(cat.first_day >= 0, "Y", "N")),
        },
    )
    sku = np.tile(np.arange(len(p)), 2)
    cur = np.repeat([0, 1], len(p))
    price = cat.price[cur, sku]
    out.csv(
        "erp.product_prices",
        "erp/product_prices.csv",
        {
            "sku": pa.array([p[i].product_id for i in sku]),
            "currency": pa.array(np.where(cur, "SGD", "CNY")),
            "list_price": money(price),
            "std_cost": money(price * 3 // 10),
            "valid_from": dates(d0 + cat.first_day[sku]),
        },
    )
    m = cat.materials
    out.csv(
        "erp.materials",
        "erp/materials.csv",
        {
            "material_code": pa.array([x.material_id for x in m]),
            "material_name": pa.array([x.name for x in m]),
            "base_unit": pa.array([x.unit for x in m]),
            "pack_size": pa.array([x.pack_size for x in m]),
            "shelf_life_days": pa.array([x.shelf_life_days for x in m]),
            "storage": pa.array([x.storage for x in m]),
            "vendor_code": pa.array([x.supplier_id for x in m]),
            "is_core": pa.array([int(x.is_core) for x in m]),
            "pack_cost": money(np.array([x.pack_cost_minor for x in m])),
        },
    )
    pi, mi = np.nonzero(cat.bom)
    out.csv(
        "erp.bom",
        "erp/bom.csv",
        {
            "sku": pa.array([p[i].product_id for i in pi]),
            "material_code": pa.array([m[i].material_id for i in mi]),
            "qty": pa.array(cat.bom[pi, mi]),
        },
    )
