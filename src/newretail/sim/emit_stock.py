"""Writes the ERP's monthly Parquet exports of stock at stores and DCs, purchase orders and receipts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.sim.dc import TRANSFER_OUT
from newretail.sim.geography import WAREHOUSES, utc_offset_seconds
from newretail.sim.inventory import ADJUSTMENT, MOVEMENT_KINDS, RECEIPT, WASTE_REASONS
from newretail.sim.text import Column, dates, ids, idx, nullable, pc
from newretail.sim.world import Month, World
from newretail.sim.writers import Output

Log = dict[str, dict[str, np.ndarray]]
# Local hours: store deliveries before opening, DC picking before that, sales and waste at close.
_HOUR = {RECEIPT: 6, ADJUSTMENT: 6, TRANSFER_OUT: 4}
_DC_RECEIPT_HOUR = 3  # suppliers deliver to DCs at night


def _ms(world: World, day: np.ndarray, offset: np.ndarray, local_hour: np.ndarray | int) -> Column:
    return pa.array((world.epoch0 + day * 86400 - offset + local_hour * 3600) * 1000)


def _dc_offset(world: World) -> np.ndarray:
    return np.array([utc_offset_seconds(w.timezone, world.config.start) for w in WAREHOUSES])


def _po_ids(store: np.ndarray, day: np.ndarray) -> Column:
    """One store purchase order per store and day: PO + store number + day number."""
    return ids("PO", (store + 1) * 100_000 + day + 50_000, 10)


def _dpo_ids(warehouse: np.ndarray, day: np.ndarray) -> Column:
    """One DC purchase order per DC and day: DPO + DC number + day number."""
    return ids("DPO", warehouse * 100_000 + day + 50_000, 7)


def write_stock(out: Output, world: World, month: Month, log: Log) -> None:
    store_ids = pa.array(world.stores.ids)
    wh_ids = pa.array([w.warehouse_id for w in WAREHOUSES])
    mat_ids = pa.array([m.material_id for m in world.catalog.materials])
    off, dc_off = world.offset_s, _dc_offset(world)
    base = f"erp/{{}}/{month.label}.parquet"
    tag = month.label.replace("-", "")
    snap, dsnap = log["snapshots"], log["dc_snapshots"]
    k, j = len(snap["store"]), len(dsnap["warehouse"])
    out.parquet(
        "erp.inventory_snapshots",
        base.format("inventory_snapshots"),
        {
            "loc_type": pa.array(np.r_[np.full(k, "store"), np.full(j, "warehouse")]),
            "loc_code": pa.concat_arrays(
                [store_ids.take(idx(snap["store"])), wh_ids.take(idx(dsnap["warehouse"]))]
            ),
            "material_code": mat_ids.take(idx(np.r_[snap["material"], dsnap["material"]])),
            "on_hand_qty": pa.array(np.r_[snap["on_hand"], dsnap["on_hand"]]),
            "count_ts": pa.array(
                np.r_[
                    _ms(world, snap["day"], off[snap["store"]], 22).to_numpy(),
                    _ms(world, dsnap["day"], dc_off[dsnap["warehouse"]], 22).to_numpy(),
                ]
            ),
        },
    )
    _movements(out, world, month, log, base.format("inventory_movements"))
    _orders(out, world, log, base.format("purchase_orders"))
    dl, dd = log["store_delivery"], log["dc_delivery"]
    k, j = len(dl["store"]), len(dd["warehouse"])
    shelf = np.array([m.shelf_life_days for m in world.catalog.materials])
    day = np.r_[dl["day"], dd["day"]]
    material = np.r_[dl["material"], dd["material"]]
    out.parquet(
        "erp.deliveries",
        base.format("deliveries"),
        {
            "gr_no": ids(f"GR{tag}", np.arange(k + j) + 1, 8),
            "po_no": pa.concat_arrays(
                [_po_ids(dl["store"], dl["po_day"]), _dpo_ids(dd["warehouse"], dd["po_day"])]
            ),
            "material_code": mat_ids.take(idx(material)),
            "loc_type": pa.array(np.r_[np.full(k, "store"), np.full(j, "warehouse")]),
            "loc_code": pa.concat_arrays(
                [store_ids.take(idx(dl["store"])), wh_ids.take(idx(dd["warehouse"]))]
            ),
            "packs": pa.array(np.r_[dl["packs"], dd["packs"]]).cast(pa.int32()),
            "expiry_date": dates(world.start_epoch_day + day + shelf[material] - 1),
            "received_ts": pa.array(
                np.r_[
                    _ms(world, dl["day"], off[dl["store"]], 6).to_numpy(),
                    _ms(world, dd["day"], dc_off[dd["warehouse"]], _DC_RECEIPT_HOUR).to_numpy(),
                ]
            ),
        },
    )


def _movements(out: Output, world: World, month: Month, log: Log, rel: str) -> None:
    mv, dm = log["movements"], log["dc_movements"]
    k, j = len(mv["store"]), len(dm["warehouse"])
    lead = np.array([w.lead_time_days for w in WAREHOUSES])[world.stores.warehouse[mv["store"]]]
    store_hour = np.select([mv["kind"] == RECEIPT, mv["kind"] == ADJUSTMENT], [6, 6], 21)
    dc_hour = np.where(dm["kind"] == TRANSFER_OUT, _HOUR[TRANSFER_OUT], _DC_RECEIPT_HOUR)
    # A store receipt arrives lead days after its PO; a DC transfer names the store PO it ships.
    refs = pa.concat_arrays(
        [
            nullable(_po_ids(mv["store"], mv["day"] - lead), mv["kind"] == RECEIPT),
            nullable(
                pc.if_else(
                    pa.array(dm["kind"] == TRANSFER_OUT),
                    _po_ids(np.maximum(dm["store"], 0), dm["ref_day"]),
                    _dpo_ids(dm["warehouse"], dm["ref_day"]),
                ),
                dm["kind"] != ADJUSTMENT,
            ),
        ]
    )
    kind = np.r_[mv["kind"], dm["kind"]]
    reason = np.r_[mv["reason"], np.zeros(j, dtype=np.int64)]
    out.parquet(
        "erp.inventory_movements",
        rel,
        {
            "doc_no": ids(f"MV{month.label.replace('-', '')}", np.arange(k + j) + 1, 9),
            "loc_type": pa.array(np.r_[np.full(k, "store"), np.full(j, "warehouse")]),
            "loc_code": pa.concat_arrays(
                [
                    pa.array(world.stores.ids).take(idx(mv["store"])),
                    pa.array([w.warehouse_id for w in WAREHOUSES]).take(idx(dm["warehouse"])),
                ]
            ),
            "material_code": pa.array([m.material_id for m in world.catalog.materials]).take(
                idx(np.r_[mv["material"], dm["material"]])
            ),
            "move_type": pa.array(MOVEMENT_KINDS).take(idx(kind)),
            "qty": pa.array(np.r_[mv["qty"], dm["qty"]]),
            "waste_reason": nullable(pa.array(WASTE_REASONS).take(idx(reason)), reason > 0),
            "ref_doc": refs,
            "posting_ts": pa.array(
                np.r_[
                    _ms(world, mv["day"], world.offset_s[mv["store"]], store_hour).to_numpy(),
                    _ms(world, dm["day"], _dc_offset(world)[dm["warehouse"]], dc_hour).to_numpy(),
                ]
            ),
        },
    )


def _orders(out: Output, world: World, log: Log, rel: str) -> None:
    po, dc = log["store_po"], log["dc_po"]
    k, j = len(po["store"]), len(dc["warehouse"])
    wh_ids = pa.array([w.warehouse_id for w in WAREHOUSES])
    materials = world.catalog.materials
    cost = np.array([m.pack_cost_minor for m in materials])
    material = np.r_[po["material"], dc["material"]]
    out.parquet(
        "erp.purchase_orders",
        rel,
        {
            "po_no": pa.concat_arrays(
                [_po_ids(po["store"], po["day"]), _dpo_ids(dc["warehouse"], dc["day"])]
            ),
            "material_code": pa.array([m.material_id for m in materials]).take(idx(material)),
            "from_type": pa.array(np.r_[np.full(k, "warehouse"), np.full(j, "supplier")]),
            "from_code": pa.concat_arrays(
                [
                    wh_ids.take(idx(world.stores.warehouse[po["store"]])),
                    pa.array([materials[m].supplier_id for m in dc["material"]], pa.string()),
                ]
            ),
            "loc_type": pa.array(np.r_[np.full(k, "store"), np.full(j, "warehouse")]),
            "loc_code": pa.concat_arrays(
                [
                    pa.array(world.stores.ids).take(idx(po["store"])),
                    wh_ids.take(idx(dc["warehouse"])),
                ]
            ),
            "packs": pa.array(np.r_[po["packs"], dc["packs"]]).cast(pa.int32()),
            "currency": pa.array(np.full(k + j, "CNY")),
            "pack_cost_fen": pa.array(cost[material]),
            "order_ts": pa.array(
                np.r_[
                    _ms(world, po["day"], world.offset_s[po["store"]], 22).to_numpy(),
                    _ms(world, dc["day"], _dc_offset(world)[dc["warehouse"]], 10).to_numpy(),
                ]
            ),
            "eta": dates(world.start_epoch_day + np.r_[po["expected"], dc["expected"]]),
        },
    )
