"""Coupons, redemptions, refunds, complaints and ratings of a month, as the CRM and service desk export them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.model import codes
from newretail.sim import baskets, coupons, kitchen, pricing
from newretail.sim.demand import APP
from newretail.sim.text import Column, ids, idx, iso_utc, local_time, money
from newretail.sim.world import Month, World
from newretail.sim.writers import Output


def write_service(
    out: Output,
    world: World,
    month: Month,
    orders: pricing.Orders,
    after: kitchen.Aftermath,
    issued: coupons.Coupons,
    order_id: dict[str, Column],
    coupon_codes: Column,
) -> None:
    rows = _service_rows(world, month, orders, after, issued, order_id, coupon_codes)
    for kind, cols in rows.items():
        out.csv(kind, f"{kind.replace('.', '/')}/{month.label}.csv", cols)


def _own_ids(orders: pricing.Orders, order_id: dict[str, Column]) -> tuple[Column, Column]:
    """Per order: its source name and its id in that source."""
    position = np.empty(len(orders.channel), dtype=np.int64)
    for c in range(len(baskets.CHANNEL_SOURCES)):
        sel = orders.channel == c
        position[sel] = np.arange(int(sel.sum()))
    all_ids = pa.concat_arrays([order_id[s] for s in baskets.CHANNEL_SOURCES])
    starts = np.cumsum([0] + [len(order_id[s]) for s in baskets.CHANNEL_SOURCES])
    source = pa.array(list(baskets.CHANNEL_SOURCES)).take(idx(orders.channel))
    return source, all_ids.take(idx(starts[orders.channel] + position))


def _service_rows(
    world: World,
    month: Month,
    orders: pricing.Orders,
    after: kitchen.Aftermath,
    issued: coupons.Coupons,
    order_id: dict[str, Column],
    coupon_codes: Column,
) -> dict[str, dict[str, Column]]:
    source, oid = _own_ids(orders, order_id)
    store_ids = pa.array(world.stores.ids)
    cur = pa.array(["CNY", "SGD"])
    tag = month.label.replace("-", "")
    off = world.offset_s
    rec_src = pa.array(["app", "mini_program"]).take(
        pa.array((issued.channel != APP).astype(np.int64))
    )
    rec_ids = [world.identities.records[s].record_id for s in ("app", "mini_program")]
    rec = pa.array(
        np.where(
            issued.channel == APP,
            rec_ids[0]
            .take(idx(np.where(issued.channel == APP, issued.record, 0)))
            .to_numpy(zero_copy_only=False),
            rec_ids[1]
            .take(idx(np.where(issued.channel != APP, issued.record, 0)))
            .to_numpy(zero_copy_only=False),
        )
        if len(issued.person)
        else np.array([], dtype=object),
        pa.string(),
    )
    used = np.flatnonzero(orders.coupon >= 0)
    c_used = orders.coupon[used]
    r, c, f = after.rating_order, after.complaint_order, after.refund_order
    st = orders.store
    return {
        "crm.coupons": {
            "coupon_code": coupon_codes,
            "campaign_code": pa.array([f"CMP-{tag}-{n.upper()}" for n in coupons.CAMPAIGNS]).take(
                pa.array(issued.campaign)
            ),
            "member_source": rec_src,
            "member_id": rec,
            "coupon_type": pa.array(coupons.COUPON_TYPES).take(idx(issued.kind)),
            "face_value": pa.array(issued.value),
            "currency": cur.take(idx(issued.currency)),
            "threshold_fen": pa.array(issued.min_spend),
            "issue_time": iso_utc(issued.issued_s),
            "expire_time": iso_utc(issued.expires_s),
        },
        "crm.redemptions": {
            "coupon_code": coupon_codes.take(idx(c_used)),
            "order_source": source.take(idx(used)),
            "order_id": oid.take(idx(used)),
            "store_id": store_ids.take(idx(st[used])),
            "currency": cur.take(idx(orders.currency[used])),
            "discount_fen": pa.array(orders.discount[used]),
            "use_time": iso_utc(orders.placed_s[used]),
        },
        "service.refunds": {
            "refund_no": ids(f"RF{tag}", np.arange(len(f)) + 1, 7),
            "order_source": source.take(idx(f)),
            "order_id": oid.take(idx(f)),
            "store_id": store_ids.take(idx(st[f])),
            "reason": pa.array(codes.REFUND_REASONS).take(idx(after.refund_reason)),
            "currency": cur.take(idx(orders.currency[f])),
            "amount": money(after.refund_amount),
            "apply_time": local_time(after.refund_s, off[st[f]]),
        },
        "service.complaints": {
            "ticket_no": ids(f"CS{tag}", np.arange(len(c)) + 1, 7),
            "order_source": source.take(idx(c)),
            "order_id": oid.take(idx(c)),
            "member_source": pa.nulls(len(c), pa.string()),
            "member_id": pa.nulls(len(c), pa.string()),
            "store_id": store_ids.take(idx(st[c])),
            "category": pa.array(codes.COMPLAINT_CATEGORIES).take(idx(after.complaint_category)),
            "created_time": local_time(after.complaint_s, off[st[c]]),
            "closed_time": local_time(after.complaint_s + 86400, off[st[c]]),
        },
        "service.ratings": {
            "rating_no": ids(f"RT{tag}", np.arange(len(r)) + 1, 7),
            "order_source": source.take(idx(r)),
            "order_id": oid.take(idx(r)),
            "store_id": store_ids.take(idx(st[r])),
            "stars": pa.array(after.rating_stars),
            "rated_time": local_time(after.rating_s, off[st[r]]),
        },
    }
