"""A supplier's delivery timeliness: its purchase-order lines due in a window, each on time, late or
short, from DWD ``purchase_orders`` against ``deliveries`` received by the close of ``as_of``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import ibis

from newretail.supply.lake_reader import LakeReader

Status = Literal["on_time", "late", "short"]


@dataclass(frozen=True)
class DeliveryLine:
    """One purchase-order line to a DC and how it was delivered.

    ``short``: something came but less than ordered; ``late``: everything came after the expected
    day, or nothing has come by the close of ``as_of``; ``on_time``: everything came by the
    expected day.
    """

    po_id: str
    dc_id: str
    material_id: str
    ordered_on: dt.date
    expected_on: dt.date
    ordered_packs: int
    delivered_packs: int
    delivered_on: dt.date | None
    status: Status


@dataclass(frozen=True)
class Timeliness:
    lines: tuple[DeliveryLine, ...]

    def count(self, status: Status) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def on_time_rate(self) -> float | None:
        return self.count("on_time") / len(self.lines) if self.lines else None


def delivery_lines(
    reader: LakeReader, *, supplier_id: str, as_of: dt.date, days: int
) -> Timeliness:
    """Lines from ``supplier_id`` expected in the ``days`` days ending ``as_of``, newest first."""
    if not reader.has("dwd", "purchase_orders"):
        return Timeliness(())
    first = as_of - dt.timedelta(days=days - 1)
    po = reader.table("dwd", "purchase_orders")
    lines = (
        po.filter(
            (po.from_type == "supplier")
            & (po.from_id == supplier_id)
            & po.expected_on.between(first, as_of)
            & (po.business_date <= as_of)
        )
        .group_by(["po_id", "material_id", "location_id", "business_date", "expected_on"])
        .aggregate(ordered=po.packs.sum().cast("int64"))
    )
    if reader.has("dwd", "deliveries"):
        dl = reader.table("dwd", "deliveries")
        received = (
            dl.filter(dl.business_date <= as_of)
            .group_by(["po_id", "material_id"])
            .aggregate(delivered=dl.packs.sum().cast("int64"), delivered_on=dl.business_date.max())
        )
        joined = lines.left_join(received, ["po_id", "material_id"])
        lines = joined.select(
            *[lines[c] for c in lines.columns],
            delivered=joined.delivered.fill_null(0),
            delivered_on=joined.delivered_on,
        )
    else:
        lines = lines.mutate(delivered=0, delivered_on=ibis.null(type="date"))
    ordered = lines.order_by([ibis.desc("expected_on"), "po_id", "material_id"])
    rows = reader.run(ordered, "supplier deliveries").to_pylist()
    return Timeliness(
        tuple(
            DeliveryLine(
                po_id=r["po_id"],
                dc_id=r["location_id"],
                material_id=r["material_id"],
                ordered_on=r["business_date"],
                expected_on=r["expected_on"],
                ordered_packs=int(r["ordered"]),
                delivered_packs=int(r["delivered"]),
                delivered_on=r["delivered_on"],
                status=_status(r["ordered"], r["delivered"], r["delivered_on"], r["expected_on"]),
            )
            for r in rows
        )
    )


def _status(
    ordered: int, delivered: int, delivered_on: dt.date | None, expected: dt.date
) -> Status:
    if 0 < delivered < ordered:
        return "short"
    if delivered == 0 or (delivered_on is not None and delivered_on > expected):
        return "late"
    return "on_time"
