"""Writes the app's and the mini-program's events as their Segment collectors export them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.ingest.sources import EVENT_FIELDS
from newretail.sim import events
from newretail.sim.demand import APP
from newretail.sim.pricing import Orders
from newretail.sim.text import Column, epoch_ms, hex_ids, idx, iso_utc, nullable
from newretail.sim.world import Month, World
from newretail.sim.writers import Output


def write(
    out: Output,
    world: World,
    month: Month,
    orders: Orders,
    channel: int,
    ev: events.Events,
    order_ids: Column,
    coupon_codes: Column,
) -> None:
    source = "app" if channel == APP else "mini_program"
    n = len(ev.occurred_s)
    record_ids = world.identities.records[source].record_id
    known = ev.record >= 0
    # A device keeps its anonymous id; a logged-out visit gets a fresh one.
    device = hex_ids("d-", np.where(known, ev.record, 2**40 + ev.session), 17 + channel)
    products = pa.array([p.product_id for p in world.catalog.products])
    stores = pa.array(world.stores.ids)
    stamp = iso_utc(ev.occurred_s) if channel == APP else epoch_ms(ev.occurred_s)
    values = {
        "message_id": hex_ids("", month.index * 2**32 + np.arange(n), 29 + channel),
        "type": pa.array(events.TYPES).take(idx(ev.type)),
        "event": pa.array(events.NAMES).take(idx(ev.name)),
        "anonymous_id": device,
        "user_id": nullable(record_ids.take(idx(np.maximum(ev.record, 0))), known)
        if len(record_ids)
        else pa.nulls(n, pa.string()),
        "product_id": nullable(products.take(idx(np.maximum(ev.product, 0))), ev.product >= 0),
        "store_id": nullable(stores.take(idx(np.maximum(ev.store, 0))), ev.store >= 0),
        "occurred_at": stamp,
        "properties": events.properties(ev, orders, channel, order_ids, coupon_codes),
    }
    cols = {EVENT_FIELDS[target]: values[target] for target in EVENT_FIELDS}
    out.jsonl(
        f"{source}.events",
        f"{source}/events/{month.label}.jsonl",
        cols,
        raw=(EVENT_FIELDS["properties"],),
    )
