"""Segment-style app and mini-program events: the funnel before each order, browsing without one, sign-ups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from newretail.sim.demand import APP
from newretail.sim.pricing import Orders
from newretail.sim.text import Column, hex_ids, idx, money, pc
from newretail.sim.world import Month, World

TYPES = ("track", "page", "screen", "identify")
TRACK, PAGE, SCREEN, IDENTIFY = range(4)
NAMES = (
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    "Coupon Viewed",
    "Menu",
    "Signed Up",
)
VIEWED, ADDED, CHECKOUT, COMPLETED, COUPON, MENU, SIGNED_UP = range(7)
_BROWSE_PER_ORDER = 0.3  # sessions that end without an order: conversion is about 77%
_ANONYMOUS = 0.3  # browsing sessions of a logged-out visitor


@dataclass
class Events:
    """One source's events of a month, in time order."""

    occurred_s: np.ndarray
    type: np.ndarray
    name: np.ndarray
    session: np.ndarray  # globally unique session number (events of one visit share it)
    record: np.ndarray  # identity record index of the logged-in user, -1 anonymous
    product: np.ndarray  # -1 none
    store: np.ndarray  # -1 none
    order: np.ndarray  # order index for Order Completed, -1 otherwise
    coupon: np.ndarray  # coupon index for Coupon Viewed, -1 otherwise


def month_events(
    world: World, month: Month, orders: Orders, channel: int, rng: np.random.Generator
) -> Events:
    rows = np.flatnonzero((orders.channel == channel) & (orders.record >= 0))
    n = len(rows)
    first_line = np.searchsorted(orders.line_order, rows)
    product = orders.line_product[first_line]
    # Gaps between the funnel steps, counted back from the order (checkout, add, view, coupon).
    gaps = rng.integers([10, 20, 10, 30], [120, 300, 240, 600], size=(n, 4))
    at = orders.placed_s[rows][:, None] - np.cumsum(gaps, axis=1)
    has = np.column_stack(
        [rng.random(n) < 0.5, rng.random(n) < 0.5, np.ones(n, dtype=bool), orders.coupon[rows] >= 0]
    )
    step_name = np.array([CHECKOUT, ADDED, VIEWED, COUPON])
    o, s = np.nonzero(has)
    session = month.index * 2**34 + channel * 2**32 + np.arange(n)
    funnel = _group(
        at[o, s],
        np.full(len(o), TRACK),
        step_name[s],
        session[o],
        orders.record[rows[o]],
        np.where(step_name[s] == COUPON, -1, product[o]),
        orders.store[rows[o]],
        np.full(len(o), -1),
        np.where(step_name[s] == COUPON, orders.coupon[rows[o]], -1),
    )
    done = _group(
        orders.placed_s[rows],
        np.full(n, TRACK),
        np.full(n, COMPLETED),
        session,
        orders.record[rows],
        np.full(n, -1),
        orders.store[rows],
        rows,
        np.full(n, -1),
    )
    parts = [funnel, done, _browsing(world, month, orders, rows, product, channel, rng)]
    parts.append(_sign_ups(world, month, channel))
    return _sorted(parts)


def _browsing(
    world: World,
    month: Month,
    orders: Orders,
    rows: np.ndarray,
    product: np.ndarray,
    channel: int,
    rng: np.random.Generator,
) -> Events:
    """Visits that end without an order: the same people and hours as orders, on other days."""
    k = rng.binomial(len(rows), _BROWSE_PER_ORDER) if len(rows) else 0
    pick = rng.integers(0, len(rows), k)
    like = rows[pick]
    day = month.first + rng.integers(0, month.end - month.first, k)
    start = orders.placed_s[like] + (day - orders.day[like]) * 86400
    source = "app" if channel == APP else "mini_program"
    created = world.identities.created_day[source][orders.person[like]]
    logged_in = (rng.random(k) >= _ANONYMOUS) & (created < day)
    record = np.where(logged_in, orders.record[like], -1)
    session = month.index * 2**34 + channel * 2**32 + 2**31 + np.arange(k)
    added = rng.random(k) < 0.3
    steps = 2 + added
    s = np.repeat(session, steps)
    pos = np.arange(len(s)) - np.repeat(np.cumsum(steps) - steps, steps)
    e = np.repeat(np.arange(k), steps)
    times = np.repeat(start, steps) + pos * rng.integers(20, 200, len(s))
    name = np.array([MENU, VIEWED, ADDED])[pos]
    return _group(
        times,
        np.where(pos == 0, SCREEN if channel == APP else PAGE, TRACK),
        name,
        s,
        record[e],
        np.where(pos == 0, -1, product[pick][e]),
        orders.store[like][e],
        np.full(len(s), -1),
        np.full(len(s), -1),
    )


def _sign_ups(world: World, month: Month, channel: int) -> Events:
    """An identify call when a record is created (version 1) during the month."""
    source = "app" if channel == APP else "mini_program"
    rec = world.identities.records[source]
    lo, hi = world.epoch0 + month.first * 86400, world.epoch0 + month.end * 86400
    new = np.flatnonzero((rec.version == 1) & (rec.created_s >= lo) & (rec.created_s < hi))
    n = len(new)
    return _group(
        rec.created_s[new],
        np.full(n, IDENTIFY),
        np.full(n, SIGNED_UP),
        month.index * 2**34 + channel * 2**32 + 2**31 + 2**30 + np.arange(n),
        new,
        np.full(n, -1),
        np.full(n, -1),
        np.full(n, -1),
        np.full(n, -1),
    )


def _group(*arrays: np.ndarray) -> Events:
    return Events(*(np.asarray(a, dtype=np.int64) for a in arrays))


def _sorted(parts: list[Events]) -> Events:
    fields = Events.__dataclass_fields__
    joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
    order = np.lexsort((joined["session"], joined["occurred_s"]))
    return Events(**{f: v[order] for f, v in joined.items()})


def properties(
    ev: Events, orders: Orders, channel: int, order_ids: Column, coupon_codes: Column
) -> Column:
    """The properties object of each event as JSON text (session always; order or coupon details)."""
    base = pc.binary_join_element_wise('{"session_id":"', hex_ids("", ev.session, 41), '"', "")
    o = np.maximum(ev.order, 0)
    position = np.cumsum(orders.channel == channel) - 1  # an order's index in its source's ids
    currency = pa.array(["CNY", "SGD"]).take(idx(orders.currency[o]))
    order_text = pc.binary_join_element_wise(
        ',"order_id":"',
        order_ids.take(idx(np.maximum(position[o], 0))) if len(order_ids) else "",
        '","total":',
        money(orders.paid[o]),
        ',"currency":"',
        currency,
        '"',
        "",
    )
    extra = pc.if_else(pa.array(ev.order >= 0), order_text, "")
    if len(coupon_codes):
        codes = coupon_codes.take(idx(np.maximum(ev.coupon, 0)))
        coupon_text = pc.binary_join_element_wise(',"coupon_id":"', codes, '"', "")
        extra = pc.if_else(pa.array(ev.coupon >= 0), coupon_text, extra)
    return pc.binary_join_element_wise(base, extra, "}", "")
