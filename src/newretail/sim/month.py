"""One month of the chain: demand, baskets, stock, orders, service, loyalty, events, operations and weather."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim import (
    baskets,
    coupons,
    demand,
    emit_events,
    emit_loyalty,
    emit_ops,
    events,
    expected,
    footfall,
    iot,
    kitchen,
    loyalty,
    paid,
    pricing,
    qc,
    supply,
    truth,
)
from newretail.sim.daylog import DayLog
from newretail.sim.dc import DcStock
from newretail.sim.demand import APP, ELEME, MEITUAN, MINI
from newretail.sim.emit_orders import order_ids, write_orders
from newretail.sim.emit_service import write_service
from newretail.sim.emit_stock import write_stock
from newretail.sim.emit_weather import write_weather
from newretail.sim.inventory import StoreStock
from newretail.sim.rng import stream
from newretail.sim.text import ids
from newretail.sim.truth import Writers
from newretail.sim.world import Month, World
from newretail.sim.writers import Output

_STOCK_TABLES = (
    "snapshots",
    "movements",
    "store_po",
    "store_delivery",
    "dc_po",
    "dc_snapshots",
    "dc_movements",
    "dc_delivery",
    "stockouts",
    "demand",
)


@dataclass
class Chain:
    """State carried from one month to the next."""

    stock: StoreStock
    dc: DcStock
    programmes: dict[str, loyalty.Programme]
    paid: paid.Paid
    devices: iot.Devices


def start_chain(world: World, out: Output, writers: Writers) -> Chain:
    """Stock, programmes and devices on the first morning; writes the memberships' initial load."""
    seed = world.config.seed
    stock, dc = supply.new_stock(world)
    programmes = loyalty.build(world, stream(seed, "loyalty"))
    held, terms = paid.build(world, programmes["app_member"], stream(seed, "paid"))
    before_start = world.epoch0 - 8 * 3600 - 1  # the export ran at 23:59:59 the evening before
    emit_loyalty.write(
        out, world, "initial", programmes, loyalty.initial(programmes), terms, before_start
    )
    emit_loyalty.write_truth(out, world, programmes["app_member"], terms, writers)
    devices = iot.build_devices(world, stream(seed, "devices"))
    emit_ops.write_store_truth(out, world, devices, writers)
    return Chain(stock, dc, programmes, held, devices)


def run_month(world: World, month: Month, out: Output, chain: Chain, writers: Writers) -> None:
    seed = world.config.seed
    rng = stream(seed, "orders", month.index)
    issued = coupons.issue(world, month, stream(seed, "coupons", month.index))
    parts = [
        demand.member_requests(world, month, rng),
        demand.walk_in_requests(world, month, rng),
        demand.coupon_requests(
            world,
            rng,
            issued.person,
            issued.channel,
            issued.issue_day,
            issued.window_end,
            issued.expected,
        ),
    ]
    draft = baskets.draft(world, month, parts, rng)
    log = DayLog()
    stock_rng = stream(seed, "stock", month.index)
    kept = supply.run_month(world, month, draft, chain.stock, chain.dc, log, stock_rng)
    orders = pricing.finalize(world, draft, kept, issued, rng)
    service = kitchen.serve(world, orders, rng)
    after = kitchen.aftermath(orders, service, rng)
    order_id = {
        s: order_ids(s, month, int((orders.channel == c).sum()))
        for c, s in enumerate(baskets.CHANNEL_SOURCES)
    }
    pos_copy = np.flatnonzero((orders.channel == MEITUAN) | (orders.channel == ELEME))
    order_id["pos_copy"] = order_ids("pos", month, len(pos_copy), start=len(order_id["pos"]))
    coupon_codes = ids(f"CP{month.label.replace('-', '')}", np.arange(len(issued.person)) + 1, 8)
    write_orders(out, world, month, orders, service, order_id, coupon_codes, pos_copy)
    tables = {t: log.take(t) for t in _STOCK_TABLES}
    write_stock(out, world, month, tables)
    write_service(out, world, month, orders, after, issued, order_id, coupon_codes)
    units = expected.expected_units(world, month, issued)
    truth.write_month(
        out, world, month, orders, draft, issued, coupon_codes, tables, units, writers
    )
    _loyalty(world, month, out, chain, orders, writers)
    event_rng = stream(seed, "events", month.index)
    for channel, source in ((APP, "app"), (MINI, "mini_program")):
        ev = events.month_events(world, month, orders, channel, event_rng)
        emit_events.write(out, world, month, orders, channel, ev, order_id[source], coupon_codes)
    _operations(world, month, out, chain, orders, tables["movements"], writers)
    write_weather(out, world, month)


def _loyalty(
    world: World,
    month: Month,
    out: Output,
    chain: Chain,
    orders: pricing.Orders,
    writers: Writers,
) -> None:
    rng = stream(world.config.seed, "loyalty", month.index + 1)
    app = chain.programmes["app_member"]
    versions = loyalty.update(world, chain.programmes, month.first, month.end, orders, rng)
    terms = paid.month(world, app, chain.paid, month.first, month.end, rng)
    month_end = world.epoch0 + month.end * 86400 - 8 * 3600 - 1  # 23:59:59 on its last day
    emit_loyalty.write(out, world, month.label, chain.programmes, versions, terms, month_end)
    emit_loyalty.write_truth(out, world, app, terms, writers)


def _operations(
    world: World,
    month: Month,
    out: Output,
    chain: Chain,
    orders: pricing.Orders,
    movements: dict[str, np.ndarray],
    writers: Writers,
) -> None:
    rng = stream(world.config.seed, "operations", month.index)
    emit_ops.write_footfall(out, world, month, footfall.count(world, month, orders, rng))
    dev = chain.devices
    exc = iot.excursions(world, month, dev, rng)
    emit_ops.write_readings(out, world, month, dev, iot.readings(world, month, dev, exc, rng))
    emit_ops.write_excursions(out, world, dev, exc, writers)
    hit = np.bincount(dev.store[exc.device], minlength=len(world.stores))
    checks = qc.inspect(world, month, dev.sloppiness, hit, movements, rng)
    emit_ops.write_inspections(out, world, month, checks)
