"""Aging: the stock on hand at the close of a day split by how long ago it was received, assuming
first in, first out: the oldest stock is used first, so what remains is the newest receipts.

Walking a location's receipts (and transfers in) from the newest back, each fills what is left of
the on-hand quantity until it is covered; stock the receipts of the last 30 days do not cover was
received earlier still (or before the lake's first day) and falls in the oldest bucket.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from newretail.supply.health.inputs import value_minor
from newretail.supply.health.model import AGE_BUCKET_DAYS, AGE_BUCKETS

CELL = ("location_type", "location_id", "material_id")
UNIT_COLUMNS = tuple(f"units_{b}" for b in AGE_BUCKETS)
VALUE_COLUMNS = tuple(f"value_{b}_minor" for b in AGE_BUCKETS)


def aging_lines(smd: ir.Table, materials: ir.Table, last: dt.date) -> ir.Table:
    """Per location × material with stock at the close of ``last``: the on-hand base units, the
    units in each age bucket and their value. ``smd`` holds at least the days ``last`` - 30 ..
    ``last``."""
    lookback = last - dt.timedelta(days=AGE_BUCKET_DAYS[-1])
    on_hand = smd.filter(
        (smd.business_date == last) & (smd.closing_on_hand.fill_null(0) > 0)
    ).select(*CELL, on_hand=smd.closing_on_hand.cast("int64"))
    recent = smd.filter(smd.business_date.between(lookback, last))
    inflow = recent.select(
        *CELL,
        "business_date",
        inflow=(recent.receipts.fill_null(0) + recent.transfers_in.fill_null(0)).cast("int64"),
    )
    inflow = inflow.filter(inflow.inflow > 0)
    newest_first = ibis.cumulative_window(group_by=list(CELL), order_by=ibis.desc("business_date"))
    walked = inflow.mutate(newer=inflow.inflow.sum().over(newest_first) - inflow.inflow)
    parts = walked.join(on_hand, list(CELL))
    share = ibis.greatest(ibis.least(parts.on_hand - parts.newer, parts.inflow), 0)
    edges = [last - dt.timedelta(days=d) for d in AGE_BUCKET_DAYS]
    in_bucket = [
        parts.business_date >= edges[0],
        (parts.business_date < edges[0]) & (parts.business_date >= edges[1]),
        parts.business_date < edges[1],
    ]
    received = parts.group_by(list(CELL)).aggregate(
        **{
            name: when.ifelse(share, 0).sum().cast("int64")
            for name, when in zip(UNIT_COLUMNS[:-1], in_bucket, strict=True)
        }
    )
    lines = on_hand.left_join(received, list(CELL))
    units = {name: lines[name].fill_null(0) for name in UNIT_COLUMNS[:-1]}
    units[UNIT_COLUMNS[-1]] = lines.on_hand - sum(units.values(), ibis.literal(0))
    costed = lines.select(*(lines[c] for c in CELL), "on_hand", **units).join(
        materials, "material_id"
    )
    values = {
        value: value_minor(costed[unit], costed.pack_cost, costed.pack_size)
        for unit, value in zip(UNIT_COLUMNS, VALUE_COLUMNS, strict=True)
    }
    return costed.select(*CELL, "on_hand", *UNIT_COLUMNS, **values).order_by(list(CELL))
