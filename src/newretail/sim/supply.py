"""Runs a month of store stock against the month's orders: which lines sell, which are lost."""

from __future__ import annotations

import numpy as np

from newretail.sim.baskets import Draft
from newretail.sim.catalog import SUPPLIERS
from newretail.sim.daylog import DayLog
from newretail.sim.dc import DcStock
from newretail.sim.geography import WAREHOUSES
from newretail.sim.inventory import StoreStock, selling_lines
from newretail.sim.world import Month, World


def new_stock(world: World) -> tuple[StoreStock, DcStock]:
    cat = world.catalog
    supplier = {s.supplier_id: s for s in SUPPLIERS}
    pack = np.array([m.pack_size for m in cat.materials])
    shelf = np.array([m.shelf_life_days for m in cat.materials])
    stores = StoreStock(
        bom=cat.bom,
        pack=pack,
        shelf=shelf,
        lead=np.array([WAREHOUSES[w].lead_time_days for w in world.stores.warehouse]),
        warehouse=world.stores.warehouse,
    )
    dc = DcStock(
        pack=pack,
        shelf=shelf,
        supplier_lead=np.array([supplier[m.supplier_id].lead_time_days for m in cat.materials]),
        min_packs=np.array([supplier[m.supplier_id].min_order_packs for m in cat.materials]),
        served=np.bincount(world.stores.warehouse, minlength=len(WAREHOUSES)) > 0,
        store_close=world.stores.close_day,
    )
    return stores, dc


def run_month(
    world: World,
    month: Month,
    draft: Draft,
    stock: StoreStock,
    dc: DcStock,
    log: DayLog,
    rng: np.random.Generator,
) -> np.ndarray:
    """Simulate the month's days; returns which lines were sold (False: lost to a stock-out)."""
    n_stores, n_prod = len(world.stores), len(world.catalog.products)
    lines = selling_lines(draft)
    order = draft.line_order[lines]
    store, product, qty = draft.store[order], draft.line_product[lines], draft.line_qty[lines]
    day = draft.day[order]
    group = store * n_prod + product
    _estimate_usage(world, month, stock, group, qty)
    kept = np.ones(len(draft.line_order), dtype=bool)
    bounds = np.searchsorted(day, np.arange(month.first, month.end + 1))
    for d in range(month.first, month.end):
        open_ = world.stores.open_on(d)
        stock.tracked[world.stores.close_day <= d] = False
        dc.morning(d, open_, stock, log, rng)
        lo, hi = bounds[d - month.first], bounds[d - month.first + 1]
        g, q = group[lo:hi], qty[lo:hi]
        demand = np.bincount(g, q, minlength=n_stores * n_prod).astype(np.int64)
        f_p, _ = stock.run_day(d, open_, demand.reshape(n_stores, n_prod), log, rng)
        cap = np.floor(f_p.ravel() * demand)
        # Lines are sorted by store, product and time: the later customers meet the empty shelf.
        cum = np.cumsum(q)
        first = np.r_[True, g[1:] != g[:-1]]
        base = np.maximum.accumulate(np.where(first, cum - q, 0))
        keep = (cum - base) <= cap[g]
        kept[lines[lo:hi]] = keep
        sold = np.bincount(g[keep], q[keep], minlength=n_stores * n_prod).astype(np.int64)
        nz = np.flatnonzero(demand)
        log.add(
            "demand",
            store=nz // n_prod,
            product=nz % n_prod,
            demand=demand[nz],
            sold=sold[nz],
            day=np.full(len(nz), d),
        )
        stock.close_day(d, sold.reshape(n_stores, n_prod), log, rng)
        dc.evening(d, log)
    return kept


def _estimate_usage(
    world: World, month: Month, stock: StoreStock, group: np.ndarray, qty: np.ndarray
) -> None:
    """The ERP's forecast of daily material use per store: this month's demand, format average if new."""
    stores = world.stores
    n_stores, n_prod = len(stores), len(world.catalog.products)
    units = np.bincount(group, qty, minlength=n_stores * n_prod).reshape(n_stores, n_prod)
    days = np.array([stores.open_on(d) for d in range(month.first, month.end)]).sum(axis=0)
    usage = (units @ world.catalog.bom) / np.maximum(days, 1)[:, None]
    for f in np.unique(stores.format):
        same = (stores.format == f) & (days > 0) & (usage.sum(axis=1) > 0)
        empty = (stores.format == f) & (usage.sum(axis=1) == 0)
        if same.any():
            usage[empty] = usage[same].mean(axis=0)
    stock.usage = np.where(stock.usage > 0, 0.5 * stock.usage + 0.5 * usage, usage)
