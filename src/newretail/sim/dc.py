"""DC stock: supplier orders by an order-up-to rule, receipts, and shipping the stores' orders."""

from __future__ import annotations

import numpy as np

from newretail.sim.daylog import DayLog
from newretail.sim.inventory import ADJUSTMENT, RECEIPT, StoreStock

TRANSFER_OUT = 3  # index into inventory.MOVEMENT_KINDS
_SAFETY_DAYS = 3
_PERISHABLE_DAYS = 14  # materials with a shorter shelf life are reviewed daily, others weekly
_SHORT_PICK = 0.02  # a store line now and then leaves half-picked (a truck full, a pallet lost)


class DcStock:
    """On-hand stock per DC and material, with supplier deliveries in the pipeline."""

    def __init__(
        self,
        *,
        pack: np.ndarray,
        shelf: np.ndarray,
        supplier_lead: np.ndarray,
        min_packs: np.ndarray,
        served: np.ndarray,
        store_close: np.ndarray,
    ) -> None:
        self.pack, self.supplier_lead, self.min_packs = pack, supplier_lead, min_packs
        self.review_days = np.where(shelf <= _PERISHABLE_DAYS, 1, 7)
        self.served = served  # bool per DC: serves at least one store
        self.store_close = store_close
        self.on_hand = np.zeros((len(served), len(pack)), dtype=np.int64)
        self.arrivals: dict[int, np.ndarray] = {}  # day -> packs (W, M) from suppliers
        self.po_day: dict[int, np.ndarray] = {}
        self.started = False

    def morning(
        self,
        day: int,
        open_: np.ndarray,
        stores: StoreStock,
        log: DayLog,
        rng: np.random.Generator,
    ) -> None:
        """Receive suppliers, review the stock position, then ship yesterday's store orders."""
        usage = np.zeros(self.on_hand.shape)
        trading = stores.tracked | open_
        np.add.at(usage, stores.warehouse[trading], stores.usage[trading])
        if not self.started:
            # The first day's count: the cover the order-up-to rule aims for.
            level = self._target(usage)
            start = (np.ceil(level / self.pack) * self.pack).astype(np.int64)
            start[~self.served] = 0
            self._move(day, start, ADJUSTMENT, -1, log)
            self.started = True
        packs = self.arrivals.pop(day, None)
        if packs is not None:
            po_day = self.po_day.pop(day)
            self._move(day, packs * self.pack, RECEIPT, po_day, log)
            w, m = np.nonzero(packs)
            log.add(
                "dc_delivery",
                warehouse=w,
                material=m,
                packs=packs[w, m],
                day=np.full(len(w), day),
                po_day=po_day[w, m],
            )
        self._review(day, usage, log)
        self._ship(day, stores, log, rng)

    def _target(self, usage: np.ndarray) -> np.ndarray:
        cover = self.supplier_lead + self.review_days + _SAFETY_DAYS
        target: np.ndarray = usage * cover[None, :]
        return target

    def _review(self, day: int, usage: np.ndarray, log: DayLog) -> None:
        due = (day % self.review_days) == 0
        pipeline = sum((p for p in self.arrivals.values()), np.zeros_like(self.on_hand))
        position = self.on_hand + pipeline * self.pack
        need = self._target(usage) - position
        packs = np.where(
            due[None, :] & self.served[:, None] & (need > 0),
            np.maximum(np.ceil(need / self.pack), self.min_packs),
            0,
        ).astype(np.int64)
        w, m = np.nonzero(packs)
        if len(w) == 0:
            return
        for lead in np.unique(self.supplier_lead[m]):
            sel = self.supplier_lead[m] == lead
            arriving = self.arrivals.setdefault(day + int(lead), np.zeros_like(packs))
            ordered = self.po_day.setdefault(day + int(lead), np.zeros_like(packs))
            arriving[w[sel], m[sel]] += packs[w[sel], m[sel]]
            ordered[w[sel], m[sel]] = day
        log.add(
            "dc_po",
            warehouse=w,
            material=m,
            packs=packs[w, m],
            day=np.full(len(w), day),
            expected=day + self.supplier_lead[m],
        )

    def _ship(self, day: int, stores: StoreStock, log: DayLog, rng: np.random.Generator) -> None:
        """Yesterday's store orders leave this morning, as far as the DC's stock goes."""
        s, m = np.nonzero(stores.pending)
        want = stores.pending[s, m]
        stores.pending[:] = 0
        arrive = day - 1 + stores.lead[s]
        live = stores.tracked[s] & (self.store_close[s] > arrive)
        want = np.where(live, np.where(rng.random(len(s)) < _SHORT_PICK, want // 2, want), 0)
        w = stores.warehouse[s]
        cell = w * len(self.pack) + m
        have = (self.on_hand // self.pack).ravel()
        # Short of stock, the DC fills whole store lines in a random order until it runs out.
        order = np.lexsort((rng.random(len(s)), cell))
        cum = np.cumsum(want[order])
        first = np.r_[True, cell[order][1:] != cell[order][:-1]]
        before = cum - want[order] - np.maximum.accumulate(np.where(first, cum - want[order], 0))
        shipped = np.empty_like(want)
        shipped[order] = np.clip(have[cell[order]] - before, 0, want[order])
        keep = shipped > 0
        s, m, w, shipped, arrive = s[keep], m[keep], w[keep], shipped[keep], arrive[keep]
        for target in np.unique(arrive):
            sel = arrive == target
            got = stores.arrivals.setdefault(int(target), np.zeros_like(stores.pending))
            ordered = stores.po_day.setdefault(int(target), np.zeros_like(stores.pending))
            got[s[sel], m[sel]] += shipped[sel]
            ordered[s[sel], m[sel]] = day - 1
        units = shipped * self.pack[m]
        np.subtract.at(self.on_hand, (w, m), units)
        log.add(
            "dc_movements",
            warehouse=w,
            material=m,
            qty=-units,
            kind=np.full(len(w), TRANSFER_OUT),
            store=s,
            ref_day=np.full(len(w), day - 1),
            day=np.full(len(w), day),
        )

    def _move(
        self, day: int, qty: np.ndarray, kind: int, ref_day: np.ndarray | int, log: DayLog
    ) -> None:
        w, m = np.nonzero(qty)
        self.on_hand += qty
        ref = np.broadcast_to(np.asarray(ref_day), qty.shape)[w, m]
        log.add(
            "dc_movements",
            warehouse=w,
            material=m,
            qty=qty[w, m],
            kind=np.full(len(w), kind),
            store=np.full(len(w), -1),
            ref_day=ref,
            day=np.full(len(w), day),
        )

    def evening(self, day: int, log: DayLog) -> None:
        w, m = np.nonzero(np.broadcast_to(self.served[:, None], self.on_hand.shape))
        log.add(
            "dc_snapshots",
            warehouse=w,
            material=m,
            on_hand=self.on_hand[w, m],
            day=np.full(len(w), day),
        )
