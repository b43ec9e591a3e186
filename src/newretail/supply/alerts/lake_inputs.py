"""What the alerts read from the lake besides stock positions: each material's unit and currency,
the lots still usable after a day (for expiry), and the order lines delivered short that day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa

from newretail.supply.alerts.alert import LocationType
from newretail.supply.alerts.deliveries import OrderLine
from newretail.supply.alerts.expiry import Lots
from newretail.supply.history import Goods
from newretail.supply.lake_reader import LakeReader, column_array

_LINE = ["po_id", "material_id", "location_type", "location_id", "from_type", "from_id"]


@dataclass(frozen=True)
class MaterialLabels:
    """Per material (M,), on the goods' axis: the base unit and the currency of the pack cost."""

    unit: np.ndarray
    currency: np.ndarray


def material_labels(reader: LakeReader, goods: Goods) -> MaterialLabels:
    rows = reader.run(
        reader.table("dwd", "materials").select("material_id", "unit", "currency"), "material units"
    ).to_pylist()
    found = {row["material_id"]: row for row in rows}
    ids = [str(m) for m in goods.material_ids]
    return MaterialLabels(
        unit=np.array([found[m]["unit"] if m in found else "" for m in ids]),
        currency=np.array([(found[m]["currency"] or "") if m in found else "" for m in ids]),
    )


def usable_lots(
    reader: LakeReader,
    goods: Goods,
    *,
    location_type: LocationType,
    location_ids: np.ndarray,
    as_of: dt.date,
    window_days: int,
) -> Lots:
    """Base units received by the close of ``as_of`` in lots usable after it: those usable beyond
    the window, and those whose last usable day is each day of the window."""
    shape = (len(location_ids), len(goods.material_ids))
    later = np.zeros(shape, dtype=np.int64)
    soon = np.zeros((*shape, window_days), dtype=np.int64)
    if not reader.has("dwd", "deliveries"):
        return Lots(later, soon)
    dl = reader.table("dwd", "deliveries")
    usable = dl.filter(
        (dl.location_type == location_type) & (dl.business_date <= as_of) & (dl.expires_on > as_of)
    )
    # Every lot usable beyond the window is counted on the day after it.
    beyond_day = as_of + dt.timedelta(days=window_days + 1)
    marked = usable.mutate(day=ibis.least(usable.expires_on, beyond_day))
    rows = reader.run(
        marked.group_by(["location_id", "material_id", "day"]).aggregate(packs=marked.packs.sum()),
        f"{location_type} usable lots",
    )
    loc, mat, keep = _cells(rows, location_ids, goods.material_ids)
    quantity = column_array(rows, "packs")[keep].astype(np.int64) * goods.pack_size[mat]
    offset = (column_array(rows, "day")[keep] - np.datetime64(as_of, "D")).astype(np.int64) - 1
    beyond = offset >= window_days
    np.add.at(later, (loc[beyond], mat[beyond]), quantity[beyond])
    inside = ~beyond
    np.add.at(soon, (loc[inside], mat[inside], offset[inside]), quantity[inside])
    return Lots(later, soon)


def short_lines(reader: LakeReader, *, as_of: dt.date) -> list[OrderLine]:
    """Order lines (to stores and to DCs) that received goods on ``as_of``, with their totals; the
    ones still short of what was ordered are the day's short deliveries."""
    if not (reader.has("dwd", "purchase_orders") and reader.has("dwd", "deliveries")):
        return []
    po, dl = reader.table("dwd", "purchase_orders"), reader.table("dwd", "deliveries")
    today = dl.filter(dl.business_date == as_of).select("po_id", "material_id").distinct()
    received = (
        dl.filter(dl.business_date <= as_of)
        .group_by(["po_id", "material_id"])
        .aggregate(delivered=dl.packs.sum())
    )
    ordered = po.filter(po.business_date <= as_of)
    lines = ordered.group_by([*_LINE, "expected_on"]).aggregate(ordered=ordered.packs.sum())
    got = lines.inner_join(today, ["po_id", "material_id"]).select(*lines.columns)
    joined = got.inner_join(received, ["po_id", "material_id"])
    rows = reader.run(
        joined.select(*[got[c] for c in got.columns], delivered=joined.delivered),
        "deliveries received today",
    ).to_pylist()
    return [
        OrderLine(
            location_type=row["location_type"],
            location_id=row["location_id"],
            material_id=row["material_id"],
            po_id=row["po_id"],
            from_type=row["from_type"],
            from_id=row["from_id"],
            expected_on=row["expected_on"],
            ordered_packs=int(row["ordered"]),
            delivered_packs=int(row["delivered"]),
        )
        for row in rows
    ]


def _cells(
    rows: pa.Table, location_ids: np.ndarray, material_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    l_index = {str(x): i for i, x in enumerate(location_ids)}
    m_index = {str(x): i for i, x in enumerate(material_ids)}
    loc = np.array([l_index.get(str(x), -1) for x in rows.column("location_id").to_pylist()])
    mat = np.array([m_index.get(str(x), -1) for x in rows.column("material_id").to_pylist()])
    keep = (loc >= 0) & (mat >= 0) if len(loc) else np.zeros(0, dtype=bool)
    return loc[keep].astype(np.int64), mat[keep].astype(np.int64), keep
