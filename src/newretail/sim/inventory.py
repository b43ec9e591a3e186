"""Store stock by lot (FIFO, expiry), daily consumption from sales, reorders from the DC, stock-outs."""

from __future__ import annotations

import numpy as np

from newretail.sim.baskets import Draft
from newretail.sim.daylog import DayLog
from newretail.sim.demand import TMALL

MOVEMENT_KINDS = ("receipt", "consumption", "transfer_in", "transfer_out", "waste", "adjustment")
RECEIPT, CONSUMPTION, WASTE, ADJUSTMENT = 0, 1, 4, 5
WASTE_REASONS = ("", "expiry", "damage", "quality", "prep")
_PREP_SHARE = 0.01  # liquids spilled or discarded while making drinks


class StoreStock:
    """On-hand stock per store and material as lots in a ring indexed by receipt day."""

    def __init__(
        self,
        bom: np.ndarray,
        pack: np.ndarray,
        shelf: np.ndarray,
        lead: np.ndarray,
        warehouse: np.ndarray,
    ) -> None:
        self.bom, self.pack, self.shelf, self.lead = bom, pack, shelf, lead
        self.warehouse = warehouse
        n_stores, n_mat = len(lead), bom.shape[1]
        self.lots = [np.zeros((n_stores, int(s)), dtype=np.int64) for s in shelf]
        self.tracked = np.zeros(n_stores, dtype=bool)
        self.arrivals: dict[int, np.ndarray] = {}  # day -> packs (S, M) arriving that morning
        self.po_day: dict[int, np.ndarray] = {}  # arrival day -> order day (S, M) of those packs
        self.pending = np.zeros((n_stores, n_mat), dtype=np.int64)  # packs ordered today
        self.usage = np.zeros((n_stores, n_mat))

    def on_hand(self) -> np.ndarray:
        return np.stack([lot.sum(axis=1) for lot in self.lots], axis=1)

    def _consume(self, m: int, day: int, amount: np.ndarray) -> None:
        """Take ``amount`` per store from material ``m``'s oldest lots first."""
        lots = self.lots[m]
        ring = lots.shape[1]
        order = (day + 1 + np.arange(ring)) % ring  # oldest receipt day first
        ordered = lots[:, order]
        before = np.cumsum(ordered, axis=1) - ordered
        taken = np.clip(amount[:, None] - before, 0, ordered)
        lots[:, order] = ordered - taken

    def run_day(
        self,
        day: int,
        open_: np.ndarray,
        demand_sp: np.ndarray,
        log: DayLog,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One business day; returns (availability factor per store-product, required per store-material)."""
        opening = open_ & ~self.tracked
        if opening.any():
            start = (
                np.ceil(self.usage[opening] * (self.lead[opening, None] + 3) / self.pack)
                * self.pack
            )
            self._receive(day, opening, start.astype(np.int64), log, ADJUSTMENT)
            self.tracked |= opening
        packs = self.arrivals.pop(day, None)
        if packs is not None:
            got = packs * self.pack
            self._receive(
                day,
                self.tracked,
                got[self.tracked],
                log,
                RECEIPT,
                po_day=self.po_day.pop(day)[self.tracked],
            )
        avail = self.on_hand()
        required = demand_sp @ self.bom
        with np.errstate(divide="ignore", invalid="ignore"):
            f_m = np.where(required > avail, avail / np.maximum(required, 1), 1.0)
        uses = self.bom > 0
        f_p = np.where(uses[None, :, :], f_m[:, None, :], 1.0).min(axis=2)
        self._log_stockouts(day, required, avail, log)
        return f_p, required

    def close_day(
        self, day: int, sold_sp: np.ndarray, log: DayLog, rng: np.random.Generator
    ) -> None:
        consumption = sold_sp @ self.bom
        tracked = np.flatnonzero(self.tracked)
        self._movements(day, tracked, consumption[tracked], CONSUMPTION, 0, log, sign=-1)
        for m in range(len(self.pack)):
            self._consume(m, day, consumption[:, m])
        avail = self.on_hand()
        liquid = np.array(
            [s <= 14 and p >= 500 for s, p in zip(self.shelf, self.pack, strict=True)]
        )
        prep = np.where(liquid, np.floor(consumption * _PREP_SHARE), 0).astype(np.int64)
        prep = np.minimum(prep, avail)
        # Damage can only break what prep waste left on the shelf.
        damage = (rng.random(avail.shape) < 0.001) * np.minimum(self.pack, avail - prep)
        for kind_reason, amount in ((4, prep), (2, damage)):
            self._movements(day, tracked, amount[tracked], WASTE, kind_reason, log, sign=-1)
            for m in range(len(self.pack)):
                self._consume(m, day, amount[:, m])
        # Lots received shelf-life days ago pass their use-by date tonight.
        expired = np.stack([lot[:, (day + 1) % lot.shape[1]] for lot in self.lots], axis=1)
        self._movements(day, tracked, expired[tracked], WASTE, 1, log, sign=-1)
        for lot in self.lots:
            lot[:, (day + 1) % lot.shape[1]] = 0
        on_hand = self.on_hand()
        s_idx, m_idx = np.nonzero(np.broadcast_to(self.tracked[:, None], on_hand.shape))
        log.add(
            "snapshots",
            store=s_idx,
            material=m_idx,
            on_hand=on_hand[s_idx, m_idx],
            day=np.full(len(s_idx), day),
        )
        self._reorder(day, on_hand, log)

    def _reorder(self, day: int, on_hand: np.ndarray, log: DayLog) -> None:
        pipeline = sum((p for p in self.arrivals.values()), np.zeros_like(on_hand)) * self.pack
        position = on_hand + pipeline
        lead = self.lead[:, None]
        cover = np.minimum(3, np.maximum(1, self.shelf - 1))[None, :]
        reorder_point = self.usage * (lead + 1)
        up_to = self.usage * (lead + cover + 1)
        need = self.tracked[:, None] & (position < reorder_point) & (self.usage > 0)
        packs = np.where(need, np.ceil((up_to - position) / self.pack), 0).astype(np.int64)
        if not packs.any():
            return
        s_idx, m_idx = np.nonzero(packs)
        self.pending += packs  # the DC ships them tomorrow morning, as far as its stock allows
        log.add(
            "store_po",
            store=s_idx,
            material=m_idx,
            packs=packs[s_idx, m_idx],
            day=np.full(len(s_idx), day),
            expected=day + self.lead[s_idx],
        )

    def _receive(
        self,
        day: int,
        stores: np.ndarray,
        qty: np.ndarray,
        log: DayLog,
        kind: int,
        po_day: np.ndarray | None = None,
    ) -> None:
        rows = np.flatnonzero(stores)
        for m, lot in enumerate(self.lots):
            lot[rows, day % lot.shape[1]] += qty[:, m]
        self._movements(day, rows, qty, kind, 0, log, sign=1)
        if kind == RECEIPT and po_day is not None:
            s_idx, m_idx = np.nonzero(qty)
            log.add(
                "store_delivery",
                store=rows[s_idx],
                material=m_idx,
                packs=qty[s_idx, m_idx] // self.pack[m_idx],
                day=np.full(len(s_idx), day),
                po_day=po_day[s_idx, m_idx],
            )

    def _movements(
        self,
        day: int,
        rows: np.ndarray,
        qty: np.ndarray,
        kind: int,
        reason: int,
        log: DayLog,
        *,
        sign: int,
    ) -> None:
        s_idx, m_idx = np.nonzero(qty)
        log.add(
            "movements",
            store=rows[s_idx],
            material=m_idx,
            qty=sign * qty[s_idx, m_idx],
            kind=np.full(len(s_idx), kind),
            reason=np.full(len(s_idx), reason),
            day=np.full(len(s_idx), day),
        )

    def _log_stockouts(
        self, day: int, required: np.ndarray, avail: np.ndarray, log: DayLog
    ) -> None:
        s_idx, m_idx = np.nonzero((required > avail) & self.tracked[:, None])
        log.add(
            "stockouts",
            store=s_idx,
            material=m_idx,
            required=required[s_idx, m_idx],
            available=avail[s_idx, m_idx],
            day=np.full(len(s_idx), day),
        )


def selling_lines(draft: Draft) -> np.ndarray:
    """Lines that draw on store stock (not cancelled, not shipped from the DC), by day/store/product/time."""
    order = draft.line_order
    valid = ~draft.cancelled[order] & (draft.channel[order] != TMALL)
    idx = np.flatnonzero(valid)
    keys = np.lexsort(
        (
            draft.placed_s[order[idx]],
            draft.line_product[idx],
            draft.store[order[idx]],
            draft.day[order[idx]],
        )
    )
    return idx[keys]
