"""Final orders after stock-outs: prices, coupon redemptions, promotions, delivery fees and payments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.baskets import DELIVERY, Draft
from newretail.sim.coupons import Coupons
from newretail.sim.demand import APP, ELEME, MEITUAN, MINI, POS, TMALL
from newretail.sim.world import World

PAYMENTS = ("wechat_pay", "alipay", "card", "cash", "stored_value", "platform")
# Payment mix per channel (rows: app, mini_program, pos CN, meituan, eleme, tmall) and for SG tills.
_PAY = np.array(
    [
        [0.55, 0.3, 0.0, 0.0, 0.15, 0.0],
        [0.85, 0.0, 0.0, 0.0, 0.15, 0.0],
        [0.5, 0.33, 0.07, 0.05, 0.05, 0.0],
        [0, 0, 0, 0, 0, 1.0],
        [0, 0, 0, 0, 0, 1.0],
        [0, 0, 0, 0, 0, 1.0],
    ]
)
_PAY_SG = np.array([[0.1, 0.05, 0.7, 0.1, 0.05, 0.0]])


@dataclass
class Orders:
    """The month's orders as the chain really served them (one row per order)."""

    person: np.ndarray
    store: np.ndarray
    day: np.ndarray
    placed_s: np.ndarray
    channel: np.ndarray
    fulfilment: np.ndarray
    record: np.ndarray
    cancelled: np.ndarray
    currency: np.ndarray
    gross: np.ndarray
    discount: np.ndarray
    fee: np.ndarray
    paid: np.ndarray
    coupon: np.ndarray  # index into the month's coupons redeemed on the order, -1 none
    payment: np.ndarray
    line_order: np.ndarray
    line_no: np.ndarray
    line_product: np.ndarray
    line_qty: np.ndarray
    line_price: np.ndarray
    line_discount: np.ndarray


def finalize(
    world: World, draft: Draft, kept: np.ndarray, coupons: Coupons, rng: np.random.Generator
) -> Orders:
    lines = np.flatnonzero(kept)
    alive = np.bincount(draft.line_order[lines], minlength=len(draft.day)) > 0
    new_index = np.cumsum(alive) - 1
    sel = np.flatnonzero(alive)
    line_order = new_index[draft.line_order[lines]]
    first = np.r_[True, line_order[1:] != line_order[:-1]]
    starts = np.flatnonzero(first)
    line_no = (
        np.arange(len(line_order)) - np.repeat(starts, np.diff(np.r_[starts, len(line_order)])) + 1
    )
    store = draft.store[sel]
    currency = world.stores.currency[store]
    product, qty = draft.line_product[lines], draft.line_qty[lines]
    price = world.catalog.price[currency[line_order], product]
    gross = np.bincount(line_order, qty * price, minlength=len(sel)).astype(np.int64)
    channel, cancelled = draft.channel[sel], draft.cancelled[sel]
    person, placed = draft.person[sel], draft.placed_s[sel]
    coupon = _redeem(coupons, person, channel, cancelled, placed, gross)
    used = coupon >= 0
    kind = np.where(used, coupons.kind[np.maximum(coupon, 0)], -1)
    value = np.where(used, coupons.value[np.maximum(coupon, 0)], 0)
    first_price = price[starts]
    coupon_off = np.select(
        [kind == 0, kind == 1, kind == 2], [value, gross * value // 100, first_price], 0
    )
    platform = (channel == MEITUAN) | (channel == ELEME)
    promo = np.where(
        platform & (gross >= np.where(currency == 1, 1500, 3000)),
        np.where(currency == 1, 200, 500),
        0,
    )
    discount = np.minimum(gross, coupon_off + promo)
    fee = np.where(draft.fulfilment[sel] == DELIVERY, np.where(currency == 1, 300, 600), 0)
    line_gross = qty * price
    share = discount[line_order] * line_gross // np.maximum(gross[line_order], 1)
    remainder = discount - np.bincount(line_order, share, minlength=len(sel)).astype(np.int64)
    share[starts] += remainder
    pay_rows = np.where((channel == POS) & (currency == 1), 6, channel)
    table = np.vstack([_PAY, _PAY_SG])
    cdf = np.cumsum(table[pay_rows], axis=1)
    payment = (rng.random(len(sel))[:, None] > cdf).sum(axis=1).clip(0, 5)
    payment[channel == TMALL] = 5
    return Orders(
        person,
        store,
        draft.day[sel],
        placed,
        channel,
        draft.fulfilment[sel],
        draft.record[sel],
        cancelled,
        currency,
        gross,
        discount,
        fee,
        gross - discount + fee,
        coupon,
        payment,
        line_order,
        line_no,
        product,
        qty,
        price,
        share,
    )


def _redeem(
    coupons: Coupons,
    person: np.ndarray,
    channel: np.ndarray,
    cancelled: np.ndarray,
    placed: np.ndarray,
    gross: np.ndarray,
) -> np.ndarray:
    """Each coupon is used on its holder's first order in its channel while valid (if it qualifies)."""
    result = np.full(len(person), -1)
    eligible = np.flatnonzero(((channel == APP) | (channel == MINI)) & ~cancelled & (person >= 0))
    if len(eligible) == 0 or len(coupons.person) == 0:
        return result
    key = (person[eligible] * 2 + (channel[eligible] == MINI)).astype(np.int64)
    composite = (key << 32) | placed[eligible].astype(np.int64)
    order = np.argsort(composite, kind="stable")
    sorted_composite = composite[order]
    c_key = (coupons.person * 2 + (coupons.channel == MINI)).astype(np.int64)
    # The first order of the holder, in the coupon's channel, placed at or after issue.
    pos = np.searchsorted(sorted_composite, (c_key << 32) | coupons.issued_s.astype(np.int64))
    pos = np.minimum(pos, len(order) - 1)
    ok = (sorted_composite[pos] >> 32) == c_key
    target = np.where(ok, eligible[order[pos]], -1)
    ok &= placed[np.maximum(target, 0)] < coupons.expires_s
    ok &= gross[np.maximum(target, 0)] >= coupons.min_spend
    c_idx = np.flatnonzero(ok)
    targets, first = np.unique(target[c_idx], return_index=True)
    result[targets] = c_idx[first]
    return result
