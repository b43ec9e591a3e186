"""Turns order requests into draft orders: store, fulfilment, identity record and the lines' products."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim import demand
from newretail.sim.demand import APP, ELEME, MEITUAN, MINI, POS, TMALL, Requests
from newretail.sim.stores import DELIVERY_KITCHEN
from newretail.sim.world import Month, World

FULFILMENTS = ("dine_in", "takeaway", "pickup", "delivery", "shipping")
DINE_IN, TAKEAWAY, PICKUP, DELIVERY, SHIPPING = range(5)
CHANNEL_SOURCES = ("app", "mini_program", "pos", "meituan", "eleme", "tmall")
# The basket model's odds, shared with the expected-demand truth (sim.expected).
ELSEWHERE = 0.15  # a member orders at another store of the city than the home store
APP_DELIVERY = 0.3  # an app or mini-program order is delivered (else picked up)
TO_KITCHEN = 0.5  # a delivery goes to a delivery kitchen of the city, when one trades
EXTRA_LINES, MAX_EXTRA_LINES = 0.4, 3  # Poisson mean of the lines beyond the first, capped
QTY_TWO, QTY_THREE = 0.1, 0.02  # chances of one more unit on a line, and of another
CANCEL_POS, CANCEL_OTHER = 0.002, 0.015


@dataclass
class Draft:
    """This month's orders in placed order, with their requested lines (before stock-outs)."""

    person: np.ndarray
    store: np.ndarray
    day: np.ndarray
    placed_s: np.ndarray
    channel: np.ndarray
    fulfilment: np.ndarray
    record: np.ndarray  # index into the channel source's identity records; -1 anonymous
    coupon: np.ndarray  # the coupon that caused the order, -1 otherwise
    cancelled: np.ndarray
    line_order: np.ndarray  # per line: index of its order
    line_product: np.ndarray
    line_qty: np.ndarray


def draft(world: World, month: Month, parts: list[Requests], rng: np.random.Generator) -> Draft:
    req = Requests(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("person", "store", "day", "placed_s", "channel", "coupon")
        )
    )
    demand.choose_channels(world, req, rng)
    n = len(req.day)
    stores = world.stores
    fulfilment = np.full(n, TAKEAWAY)
    fulfilment[(req.channel == POS) & (stores.seats[req.store] > 0) & (rng.random(n) < 0.45)] = (
        DINE_IN
    )
    app_like = (req.channel == APP) | (req.channel == MINI)
    fulfilment[app_like] = np.where(
        rng.random(int(app_like.sum())) < APP_DELIVERY, DELIVERY, PICKUP
    )
    fulfilment[(req.channel == MEITUAN) | (req.channel == ELEME)] = DELIVERY
    fulfilment[req.channel == TMALL] = SHIPPING
    member = req.person >= 0
    elsewhere = member & (req.channel != TMALL) & (rng.random(n) < ELSEWHERE)
    closed = ~_open(world, req.store, req.day)
    keep = np.ones(n, dtype=bool)
    _reassign(world, rng, req, elsewhere | closed, kitchens=False, keep=keep, must=closed)
    to_kitchen = (fulfilment == DELIVERY) & (rng.random(n) < TO_KITCHEN)
    _reassign(world, rng, req, to_kitchen, kitchens=True, keep=keep, must=np.zeros(n, dtype=bool))
    fulfilment[(fulfilment == DINE_IN) & (stores.seats[req.store] == 0)] = TAKEAWAY
    record = _records(world, req, rng)
    order = np.argsort(req.placed_s[keep], kind="stable")
    sel = np.flatnonzero(keep)[order]
    m = len(sel)
    n_lines = 1 + np.minimum(rng.poisson(EXTRA_LINES, m), MAX_EXTRA_LINES)
    line_order = np.repeat(np.arange(m), n_lines)
    chan = req.channel[sel]
    cancelled = rng.random(m) < np.where(chan == POS, CANCEL_POS, CANCEL_OTHER)
    sub = Requests(
        req.person[sel], req.store[sel], req.day[sel], req.placed_s[sel], chan, req.coupon[sel]
    )
    category = demand.line_categories(world, sub, line_order, rng)
    product = _products(world, month, sub.day[line_order], category, rng)
    qty = 1 + (rng.random(len(line_order)) < QTY_TWO) + (rng.random(len(line_order)) < QTY_THREE)
    return Draft(
        sub.person,
        sub.store,
        sub.day,
        sub.placed_s,
        chan,
        fulfilment[sel],
        record[sel],
        sub.coupon,
        cancelled,
        line_order,
        product,
        qty.astype(np.int64),
    )


def _open(world: World, store: np.ndarray, day: np.ndarray) -> np.ndarray:
    s = world.stores
    trading: np.ndarray = (s.open_day[store] <= day) & (day < s.close_day[store])
    return trading


def _reassign(
    world: World,
    rng: np.random.Generator,
    req: Requests,
    rows: np.ndarray,
    *,
    kitchens: bool,
    keep: np.ndarray,
    must: np.ndarray,
) -> None:
    """Move orders to another open store of the same city (a delivery kitchen if ``kitchens``)."""
    s = world.stores
    wanted = (s.format == DELIVERY_KITCHEN) == kitchens
    city = s.city[req.store]
    idx = np.flatnonzero(rows)
    if len(idx) == 0:
        return
    keys = city[idx] * 100_000 + req.day[idx]
    for key in np.unique(keys):
        group = idx[keys == key]
        c, d = divmod(int(key), 100_000)
        candidates = np.flatnonzero(wanted & (s.city == c) & s.open_on(d))
        if len(candidates):
            req.store[group] = candidates[rng.integers(0, len(candidates), len(group))]
        else:
            keep[group[must[group]]] = False


def _records(world: World, req: Requests, rng: np.random.Generator) -> np.ndarray:
    record = np.full(len(req.day), -1)
    for c, source in enumerate(CHANNEL_SOURCES):
        rows = np.flatnonzero((req.channel == c) & (req.person >= 0))
        who = req.person[rows]
        first = world.identities.primary[source][who]
        second = world.identities.secondary[source][who]
        chosen = np.where((second >= 0) & (rng.random(len(rows)) < 0.35), second, first)
        if c == POS:  # a member at the till shows a card only if they hold one and remember it
            shown = (world.identities.created_day[source][who] <= req.day[rows]) & (
                rng.random(len(rows)) < 0.8
            )
            chosen = np.where(shown, chosen, -1)
        record[rows] = chosen
    return record


def _products(
    world: World, month: Month, day: np.ndarray, category: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    cat = world.catalog
    days = np.arange(month.first, month.end)
    on_sale = np.stack([cat.on_sale(int(d)) for d in days])  # (D, P)
    n_cat = int(cat.category.max()) + 1
    weights = on_sale[:, None, :] * (cat.category[None, None, :] == np.arange(n_cat)[None, :, None])
    cdf = np.cumsum(weights * cat.popularity, axis=2)
    u = rng.random(len(day))
    key = (day - month.first) * n_cat + category
    product = np.empty(len(day), dtype=np.int64)
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(len(days) * n_cat + 1))
    for k in range(len(days) * n_cat):
        rows = order[bounds[k] : bounds[k + 1]]
        if len(rows):
            row = cdf[k // n_cat, k % n_cat]
            product[rows] = np.searchsorted(row, u[rows] * row[-1], side="right")
    return product
