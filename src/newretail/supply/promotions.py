"""Promotions as a demand feature: the coupons live on each day in the hands of each store's
customers (a customer belongs to the store they order from most), known ahead because a coupon is
issued before it can be used.

A forecast counts a coupon only from ``lead`` days (its horizon) after the coupon's issue, on
history and horizon days alike: every horizon day then sees just coupons issued by the origin, so a
backtest never sees a campaign launched after its forecast, and the feature means the same in
training as in the forecast (counting every coupon in training but only the origin's in the horizon
made the horizon look coupon-poor and the forecast low).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np

from newretail.supply.lake_reader import LakeReader, column_array


@dataclass(frozen=True)
class Coupons:
    """Issued coupons as day numbers from the sales' first day; ``end`` is exclusive."""

    store: np.ndarray  # int (N,) index into the network's stores
    issued: np.ndarray  # int (N,)
    end: np.ndarray  # int (N,)

    def live(self, days: int, n_stores: int, *, lead: int = 0) -> np.ndarray:
        """(days, S) coupons live on each day d, counting one only when issued by day d - lead."""
        start = np.clip(self.issued + lead, 0, days)
        end = np.clip(self.end, 0, days)
        keep = start < end
        delta = np.zeros((days + 1, n_stores), dtype=np.int64)
        np.add.at(delta, (start[keep], self.store[keep]), 1)
        np.add.at(delta, (end[keep], self.store[keep]), -1)
        live: np.ndarray = np.cumsum(delta[:-1], axis=0)
        return live


def load_coupons(
    reader: LakeReader, store_ids: np.ndarray, first: dt.date, last: dt.date
) -> Coupons | None:
    """Coupons issued up to ``last`` and live after ``first``, each placed at its holder's store."""
    if not (reader.has("dwd", "coupons_issued") and reader.has("dwd", "orders")):
        return None
    orders = reader.table("dwd", "orders")
    visits = (
        orders.filter(orders.identity_record_id.notnull())
        .group_by(["identity_source", "identity_record_id", "store_id"])
        .aggregate(n=ibis._.count())
    )
    ranked = visits.mutate(
        rank=ibis.row_number().over(
            group_by=[visits.identity_source, visits.identity_record_id],
            order_by=[ibis.desc(visits.n), visits.store_id],
        )
    )
    home = ranked.filter(ranked["rank"] == 0).select(
        "identity_source", "identity_record_id", "store_id"
    )
    coupons = reader.table("dwd", "coupons_issued")
    live = coupons.filter((coupons.issued_at.date() <= last) & (coupons.expires_at.date() >= first))
    rows = reader.run(
        live.join(home, ["identity_source", "identity_record_id"]).select(
            "store_id", issued=live.issued_at.date(), expires=live.expires_at.date()
        ),
        "coupons",
    )
    index = {str(s): i for i, s in enumerate(store_ids)}
    store = np.array([index.get(str(s), -1) for s in rows.column("store_id").to_pylist()])
    origin = np.datetime64(first, "D")
    issued = (column_array(rows, "issued") - origin).astype(np.int64)
    end = (column_array(rows, "expires") - origin).astype(np.int64) + 1
    keep = store >= 0
    return Coupons(store[keep].astype(np.int64), issued[keep], end[keep])
