"""Where stock stands at the close of a day, from the lake: on hand per location and material (the
day's closing count, else the newest earlier one within a week) and what is in transit, by the day
it is due, from purchase orders not yet delivered.

An order past its expected day and still not delivered is counted as arriving tomorrow (it is late,
not lost); ``late`` lists those lines for the alerts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from newretail.config import Engine as EngineName
from newretail.errors import InvalidInput
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.history import Goods
from newretail.supply.lake_reader import LakeReader, column_array

_COUNT_MEMORY_DAYS = 7


@dataclass(frozen=True)
class LateLine:
    po_id: str
    location_id: str
    material_id: str
    from_id: str
    expected_on: dt.date
    ordered_packs: int
    delivered_packs: int


@dataclass(frozen=True)
class StockAt:
    """Stock of one location type (stores or DCs) at the close of ``as_of``."""

    as_of: dt.date
    location_ids: np.ndarray  # str (L,)
    on_hand: np.ndarray  # int (L, M) base units
    counted: np.ndarray  # bool (L, M): a count was found within the last week
    in_transit: np.ndarray  # int (L, M, K) base units due on as_of + 1 + k
    late: list[LateLine]


def stock_at(
    lake: Lake,
    *,
    engine: EngineName,
    goods: Goods,
    location_type: str,
    location_ids: np.ndarray,
    as_of: dt.date,
    days_ahead: int,
) -> StockAt:
    """On hand and in transit for ``location_ids`` (stores or warehouses) at the close of ``as_of``."""
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        on_hand, counted = _on_hand(reader, goods, location_type, location_ids, as_of)
        in_transit, late = _in_transit(
            reader, goods, location_type, location_ids, as_of, days_ahead
        )
    return StockAt(as_of, location_ids, on_hand, counted, in_transit, late)


def _on_hand(
    reader: LakeReader,
    goods: Goods,
    location_type: str,
    location_ids: np.ndarray,
    as_of: dt.date,
) -> tuple[np.ndarray, np.ndarray]:
    shape = (len(location_ids), len(goods.material_ids))
    on_hand = np.zeros(shape, dtype=np.int64)
    counted = np.zeros(shape, dtype=bool)
    if not reader.has("dws", "store_material_day"):
        return on_hand, counted
    smd = reader.table("dws", "store_material_day")
    first = as_of - dt.timedelta(days=_COUNT_MEMORY_DAYS - 1)
    rows = reader.run(
        smd.filter(
            (smd.location_type == location_type)
            & (smd.business_date >= first)
            & (smd.business_date <= as_of)
            & smd.closing_on_hand.notnull()
        ).select("location_id", "material_id", "business_date", "closing_on_hand"),
        f"{location_type} stock",
    )
    rows = rows.sort_by([("business_date", "ascending")])
    loc, mat, keep = _indices(rows, location_ids, goods.material_ids)
    closing = column_array(rows, "closing_on_hand")[keep].astype(np.int64)
    negative = np.flatnonzero(closing < 0)
    if len(negative):
        i = negative[0]
        when = column_array(rows, "business_date")[keep][i]
        raise InvalidInput(
            "supply.negative_stock",
            f"negative stock count {closing[i]} of {goods.material_ids[mat[i]]} at"
            f" {location_ids[loc[i]]} on {when}",
            field=f"{location_ids[loc[i]]}/{goods.material_ids[mat[i]]}",
        )
    # Rows are in date order, so the newest count of each cell is the one that stays.
    on_hand[loc, mat] = closing
    counted[loc, mat] = True
    return on_hand, counted


def _in_transit(
    reader: LakeReader,
    goods: Goods,
    location_type: str,
    location_ids: np.ndarray,
    as_of: dt.date,
    days_ahead: int,
) -> tuple[np.ndarray, list[LateLine]]:
    arrivals = np.zeros((len(location_ids), len(goods.material_ids), days_ahead), dtype=np.int64)
    if not reader.has("dwd", "purchase_orders"):
        return arrivals, []
    po = reader.table("dwd", "purchase_orders")
    ordered = po.filter((po.location_type == location_type) & (po.business_date <= as_of))
    open_lines = ordered.group_by(
        ["po_id", "material_id", "location_id", "from_id", "expected_on"]
    ).aggregate(packs=ordered.packs.sum())
    if reader.has("dwd", "deliveries"):
        dl = reader.table("dwd", "deliveries")
        received = (
            dl.filter(dl.business_date <= as_of)
            .group_by(["po_id", "material_id"])
            .aggregate(delivered=dl.packs.sum())
        )
        joined = open_lines.left_join(received, ["po_id", "material_id"])
        open_lines = joined.select(
            *[open_lines[c] for c in open_lines.columns],
            delivered=joined.delivered.fill_null(0),
        )
    else:
        open_lines = open_lines.mutate(delivered=0)
    # A line ordered long ago and delivered in part is closed: short deliveries are not chased.
    pending = open_lines.filter(
        (open_lines.delivered == 0)
        & (open_lines.expected_on >= as_of - dt.timedelta(days=_COUNT_MEMORY_DAYS))
    )
    rows = reader.run(pending, f"{location_type} open orders")
    return _arrivals(rows, goods, location_ids, as_of, arrivals)


def _arrivals(
    rows: pa.Table,
    goods: Goods,
    location_ids: np.ndarray,
    as_of: dt.date,
    arrivals: np.ndarray,
) -> tuple[np.ndarray, list[LateLine]]:
    loc, mat, keep = _indices(rows, location_ids, goods.material_ids)
    expected = column_array(rows, "expected_on")[keep]
    offset = (expected - np.datetime64(as_of, "D")).astype(np.int64) - 1
    packs = column_array(rows, "packs")[keep].astype(np.int64)
    quantity = packs * goods.pack_size[mat]
    k = np.clip(offset, 0, arrivals.shape[2] - 1)
    inside = offset < arrivals.shape[2]
    np.add.at(arrivals, (loc[inside], mat[inside], k[inside]), quantity[inside])
    late = [
        LateLine(
            po_id=str(rows.column("po_id")[int(i)]),
            location_id=str(location_ids[loc[j]]),
            material_id=str(goods.material_ids[mat[j]]),
            from_id=str(rows.column("from_id")[int(i)]),
            expected_on=expected[j].astype(dt.date),
            ordered_packs=int(packs[j]),
            delivered_packs=0,
        )
        for j, i in enumerate(np.flatnonzero(keep))
        if offset[j] < 0
    ]
    return arrivals, late


def _indices(
    rows: pa.Table, location_ids: np.ndarray, material_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    l_index = {str(x): i for i, x in enumerate(location_ids)}
    m_index = {str(x): i for i, x in enumerate(material_ids)}
    loc = np.array([l_index.get(str(x), -1) for x in rows.column("location_id").to_pylist()])
    mat = np.array([m_index.get(str(x), -1) for x in rows.column("material_id").to_pylist()])
    keep = (loc >= 0) & (mat >= 0)
    return loc[keep].astype(np.int64), mat[keep].astype(np.int64), keep
