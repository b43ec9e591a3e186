"""Writes a month's orders and lines in each source system's own style (see ingest.sources)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.ingest.sources import ORDER_EXPORTS, pos
from newretail.sim.baskets import CHANNEL_SOURCES, DELIVERY, DINE_IN
from newretail.sim.demand import ELEME, MEITUAN, POS
from newretail.sim.kitchen import Service
from newretail.sim.pricing import PAYMENTS, Orders
from newretail.sim.text import Column, epoch_ms, ids, idx, iso_utc, local_time, money, nullable
from newretail.sim.world import Month, World
from newretail.sim.writers import Output

_PREFIX = {
    "pos": "PS",
    "app": "AP",
    "mini_program": "WX",
    "meituan": "MT",
    "eleme": "EL",
    "tmall": "TM",
}
_CURRENCY = pa.array(["CNY", "SGD"])
_POS_PAY = {v: k for k, v in pos.PAY.items()}


def order_ids(source: str, month: Month, count: int, start: int = 0) -> Column:
    return ids(
        f"{_PREFIX[source]}{month.label.replace('-', '')}", np.arange(start, start + count) + 1, 8
    )


def _time(style: str, epoch_s: np.ndarray, offset: np.ndarray) -> Column:
    present = epoch_s >= 0
    safe = np.where(present, epoch_s, 0)
    if style == "local":
        text = local_time(safe, offset)
    elif style == "iso":
        text = iso_utc(safe)
    else:
        text = epoch_ms(safe)
    return nullable(text, present)


def _money(style: str, minor: np.ndarray) -> Column:
    return money(minor) if style == "yuan" else pa.array(minor.astype(np.int64))


def write_orders(
    out: Output,
    world: World,
    month: Month,
    orders: Orders,
    service: Service,
    order_id: dict[str, Column],
    coupon_codes: Column,
    pos_copy: np.ndarray,
) -> None:
    """One file per source; ``pos_copy`` are platform orders the POS also records."""
    offset = world.offset_s[orders.store]
    store_ids = pa.array(world.stores.ids)
    for c, source in enumerate(CHANNEL_SOURCES):
        rows = (
            np.flatnonzero(orders.channel == c)
            if source != "pos"
            else np.r_[np.flatnonzero(orders.channel == POS), pos_copy]
        )
        export = ORDER_EXPORTS[source]
        fields, tstyle, mstyle = export.fields, export.time, export.money
        cols: dict[str, Column] = {}
        rec = orders.record[rows]
        if source == "pos":  # the till never knows who ordered on a platform
            rec = np.where(orders.channel[rows] == POS, rec, -1)
        recs = world.identities.records[source].record_id
        identity = (
            nullable(recs.take(idx(np.maximum(rec, 0))), rec >= 0)
            if len(recs)
            else pa.nulls(len(rows), pa.string())
        )
        status_codes = {
            v: k
            for k, v in (
                export.status or {"completed": "completed", "cancelled": "cancelled"}
            ).items()
        }
        status = pa.array([status_codes["completed"], status_codes["cancelled"]]).take(
            idx(orders.cancelled[rows].astype(np.int64))
        )
        times = {
            "placed_at": orders.placed_s,
            "accepted_at": service.accepted_s,
            "made_at": service.made_s,
            "completed_at": service.completed_s,
            "promised_at": service.promised_s,
        }
        amounts = {
            "gross_minor": orders.gross,
            "discount_minor": orders.discount,
            "delivery_fee_minor": orders.fee,
            "paid_minor": orders.paid,
        }
        coupon = orders.coupon[rows]
        for target, name in fields.items():
            if target == "order_id":
                cols[name] = (
                    order_id[source]
                    if source != "pos"
                    else pa.concat_arrays([order_id["pos"], order_id["pos_copy"]])
                )
            elif target == "store_id":
                cols[name] = store_ids.take(idx(orders.store[rows]))
            elif target == "identity_record_id":
                cols[name] = identity
            elif target in times:
                cols[name] = _time(tstyle, times[target][rows], offset[rows])
            elif target in amounts:
                cols[name] = _money(mstyle, amounts[target][rows])
            elif target == "currency":
                cols[name] = _CURRENCY.take(idx(orders.currency[rows]))
            elif target == "status":
                cols[name] = status
            elif target == "coupon_id":
                cols[name] = (
                    nullable(coupon_codes.take(idx(np.maximum(coupon, 0))), coupon >= 0)
                    if len(coupon_codes)
                    else pa.nulls(len(rows), pa.string())
                )
            elif target == "payment_method":
                names = [
                    (_POS_PAY if source == "pos" else {p: p for p in PAYMENTS})[p] for p in PAYMENTS
                ]
                cols[name] = pa.array(names).take(idx(orders.payment[rows]))
            elif target == "fulfilment":
                ful = orders.fulfilment[rows]
                if source == "pos":
                    cols[name] = pa.array(["堂食", "外带", "外卖"]).take(
                        idx(np.where(ful == DINE_IN, 0, np.where(ful == DELIVERY, 2, 1)))
                    )
                else:
                    cols[name] = pa.array(
                        ["dine_in", "takeaway", "pickup", "delivery", "shipping"]
                    ).take(idx(ful))
            elif target == "channel":
                ch = orders.channel[rows]
                cols[name] = pa.array(["POS", "MT", "ELM"]).take(
                    idx(np.where(ch == MEITUAN, 1, np.where(ch == ELEME, 2, 0)))
                )
            elif target == "platform_order_ref":
                n_own = int((orders.channel == POS).sum())
                refs = _platform_refs(orders, order_id, pos_copy)
                cols[name] = pa.concat_arrays([pa.nulls(n_own, pa.string()), refs])
        _write(out, source, "orders", month, cols)
        _write_lines(out, world, month, source, orders, rows, cols[fields["order_id"]])


def _platform_refs(orders: Orders, order_id: dict[str, Column], pos_copy: np.ndarray) -> Column:
    position = np.empty(len(orders.channel), dtype=np.int64)
    for c in (MEITUAN, ELEME):
        sel = np.flatnonzero(orders.channel == c)
        position[sel] = np.arange(len(sel))
    mt = orders.channel[pos_copy] == MEITUAN
    return pa.array(
        np.where(
            mt,
            order_id["meituan"]
            .take(idx(np.where(mt, position[pos_copy], 0)))
            .to_numpy(zero_copy_only=False),
            order_id["eleme"]
            .take(idx(np.where(~mt, position[pos_copy], 0)))
            .to_numpy(zero_copy_only=False)
            if len(order_id["eleme"])
            else "",
        )
    )


def _write(out: Output, source: str, kind: str, month: Month, cols: dict[str, Column]) -> None:
    export = ORDER_EXPORTS[source]
    rel = f"{source}/{kind}/{month.label}.{export.ext}"
    if export.ext == "jsonl":
        out.jsonl(f"{source}.{kind}", rel, cols)
    else:
        out.csv(f"{source}.{kind}", rel, cols, export.encoding)


def _write_lines(
    out: Output,
    world: World,
    month: Month,
    source: str,
    orders: Orders,
    rows: np.ndarray,
    ids_: Column,
) -> None:
    # Lines of the selected orders, in the same order as the order file.
    where = np.full(len(orders.day), -1)
    where[rows] = np.arange(len(rows))
    pick = np.flatnonzero(where[orders.line_order] >= 0)
    pick = pick[np.argsort(where[orders.line_order[pick]], kind="stable")]
    o = orders.line_order[pick]
    order_col, line_col, product_col, qty_col, price_col, disc_col = ORDER_EXPORTS[source].lines
    mstyle = ORDER_EXPORTS[source].money
    local_day = (orders.placed_s[o] + world.offset_s[orders.store[o]]) // 86400
    cols = {
        order_col: ids_.take(idx(where[o])),
        line_col: pa.array(orders.line_no[pick]),
        product_col: pa.array([p.product_id for p in world.catalog.products]).take(
            idx(orders.line_product[pick])
        ),
        qty_col: pa.array(orders.line_qty[pick]),
        "currency": _CURRENCY.take(idx(orders.currency[o])),
        price_col: _money(mstyle, orders.line_price[pick]),
        disc_col: _money(mstyle, orders.line_discount[pick]),
        ("store_code" if source == "pos" else "store_id"): pa.array(world.stores.ids).take(
            idx(orders.store[o])
        ),
        "biz_date": pa.array(local_day.astype("datetime64[D]")).cast(pa.string()),
    }
    _write(out, source, "order_lines", month, cols)
