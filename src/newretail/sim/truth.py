"""Ground truth beside the sources: who every record is, latent traits, demand, coupon uplift, stock-outs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from newretail.sim import baskets
from newretail.sim.catalog import CATEGORIES
from newretail.sim.coupons import Coupons
from newretail.sim.members import DAYPARTS, JOIN_CHANNELS, LIFECYCLE
from newretail.sim.pricing import Orders
from newretail.sim.text import Column, ids, idx
from newretail.sim.world import Month, World
from newretail.sim.writers import Output

Writers = dict[str, pq.ParquetWriter]


def person_ids(index: np.ndarray) -> Column:
    return ids("P", index + 1, 8)


def _dates(world: World, day: np.ndarray) -> Column:
    return pa.array((world.start_epoch_day + day).astype("datetime64[D]"))


def write_month(
    out: Output,
    world: World,
    month: Month,
    orders: Orders,
    draft: baskets.Draft,
    issued: Coupons,
    coupon_codes: Column,
    tables: dict[str, dict[str, np.ndarray]],
    expected: np.ndarray,
    writers: Writers,
) -> None:
    """Demand (expected and realised), stock-outs and coupon uplift of the month."""
    stores = pa.array(world.stores.ids)
    products = pa.array([p.product_id for p in world.catalog.products])
    materials = pa.array([m.material_id for m in world.catalog.materials])
    d = tables["demand"]
    _, n_stores, n_prod = expected.shape
    cell = ((d["day"] - month.first) * n_stores + d["store"]) * n_prod + d["product"]
    demand = np.zeros(expected.size, dtype=np.int64)
    sold = np.zeros(expected.size, dtype=np.int64)
    demand[cell], sold[cell] = d["demand"], d["sold"]
    rows = np.flatnonzero((expected.ravel() > 0) | (demand > 0))
    day, rest = np.divmod(rows, n_stores * n_prod)
    store, product = np.divmod(rest, n_prod)
    out.truth(
        "demand",
        pa.table(
            {
                "store_id": stores.take(idx(store)),
                "product_id": products.take(idx(product)),
                "business_date": _dates(world, month.first + day),
                "expected_units": pa.array(np.round(expected.ravel()[rows], 4)),
                "demand_units": pa.array(demand[rows]),
                "sold_units": pa.array(sold[rows]),
                "lost_units": pa.array(demand[rows] - sold[rows]),
            }
        ),
        writers,
    )
    s = tables["stockouts"]
    out.truth(
        "stockouts",
        pa.table(
            {
                "store_id": stores.take(idx(s["store"])),
                "material_id": materials.take(idx(s["material"])),
                "business_date": _dates(world, s["day"]),
                "required": pa.array(s["required"]),
                "available": pa.array(s["available"]),
            }
        ),
        writers,
    )
    redeemed = np.zeros(len(issued.person), dtype=bool)
    redeemed[orders.coupon[orders.coupon >= 0]] = True
    caused = np.bincount(draft.coupon[draft.coupon >= 0], minlength=len(issued.person))
    out.truth(
        "coupon_uplift",
        pa.table(
            {
                "coupon_id": coupon_codes,
                "person_id": person_ids(issued.person),
                "expected_incremental_orders": pa.array(issued.expected),
                "incremental_orders": pa.array(caused.astype(np.int64)),
                "redeemed": pa.array(redeemed),
            }
        ),
        writers,
    )


def write_people(out: Output, world: World, writers: Writers) -> None:
    p = world.persons
    n = len(p)
    out.truth(
        "persons",
        pa.table(
            {
                "person_id": person_ids(np.arange(n)),
                "home_store_id": pa.array(world.stores.ids).take(idx(p.home_store)),
                "country": pa.array(np.where(p.country_sg, "SG", "CN")),
                "joined_on": _dates(world, p.join_day),
                "join_channel": pa.array(JOIN_CHANNELS).take(idx(p.join_channel)),
                "daypart": pa.array(DAYPARTS).take(idx(p.daypart)),
                "favourite_category": pa.array(CATEGORIES).take(idx(p.favourite)),
                "coupon_sensitivity": pa.array(p.coupon_sensitivity),
                "churn_hazard": pa.array(p.churn_hazard),
                "referral_propensity": pa.array(p.referral_propensity),
                "orders_per_day": pa.array(p.base_rate),
                "final_lifecycle": pa.array(LIFECYCLE).take(
                    idx(p.lifecycle[:, -1].astype(np.int64))
                ),
                "reactivated": pa.array(p.reactivated),
            }
        ),
        writers,
    )
    months = pa.array([m.label for m in world.months])
    for m in range(len(world.months)):
        joined = np.flatnonzero(p.lifecycle[:, m] > 0)
        out.truth(
            "lifecycle",
            pa.table(
                {
                    "person_id": person_ids(joined),
                    "month": months.take(idx(np.full(len(joined), m))),
                    "state": pa.array(LIFECYCLE).take(idx(p.lifecycle[joined, m].astype(np.int64))),
                }
            ),
            writers,
        )
    out.truth("shared_phones", _shared_phones(world), writers)
    for source, rec in world.identities.records.items():
        out.truth(
            "identity_map",
            pa.table(
                {
                    "source": pa.array(np.full(len(rec.person), source)),
                    "source_record_id": rec.record_id,
                    "version": pa.array(rec.version),
                    "person_id": person_ids(rec.person),
                }
            ),
            writers,
        )


def _shared_phones(world: World) -> pa.Table:
    """Persons who truly share one phone: families (a phone slot held by two people) and the
    cashiers' default numbers on POS cards. OneID must keep each of them a separate person."""
    slot = world.identities.phone_slot
    counts = np.bincount(slot, minlength=len(slot))
    family = np.flatnonzero(counts[slot] > 1)
    pos = world.identities.records["pos"]
    hub_rows = np.flatnonzero(pos.hub_phone)
    groups = np.concatenate([slot[family].astype(str), pos.phone[hub_rows].astype(str)])
    return pa.table(
        {
            "group_id": pa.array(groups),
            "kind": pa.array(["family"] * len(family) + ["hub"] * len(hub_rows)),
            "person_id": pa.concat_arrays([person_ids(family), person_ids(pos.person[hub_rows])]),
        }
    )
