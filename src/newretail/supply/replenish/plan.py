"""Tomorrow's order proposal for the whole network: every store orders from its DC and every DC from
its suppliers, from the published forecast and tonight's stock position, each line with its reasons.

Stores review daily and order from their DC (lead time: the DC's delivery time to the store, no
minimum beyond one pack). DCs review perishables (shelf life up to 14 days) daily and the rest
weekly, and order from each material's supplier (its lead time and minimum order); a DC's demand is
the sum of its stores' forecasts, with the variances added (stores' errors taken as independent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newretail.supply.forecast.run import MaterialForecast
from newretail.supply.history import History
from newretail.supply.replenish.inputs import DemandForecast, OrderTerms, StockPosition
from newretail.supply.replenish.policy import REASONS, Explanation, Proposal, propose
from newretail.supply.replenish.position import StockAt

DEFAULT_SERVICE_LEVEL = 0.98
_PERISHABLE_DAYS = 14
_SHOWN_WITHOUT_ORDER = ("capped_by_shelf_life", "dropped_below_min_order")


@dataclass(frozen=True)
class PlanLine:
    """One proposed order line: who orders what from whom, when it arrives, and why this much."""

    location_type: str  # store or warehouse
    location_id: str
    material_id: str
    from_type: str  # warehouse or supplier
    from_id: str
    order_date: dt.date
    arrival_date: dt.date
    pack_size: int
    packs: int
    quantity: int  # base units
    currency: str
    pack_cost_minor: int
    explanation: Explanation


@dataclass(frozen=True)
class PlanDraft:
    origin: dt.date  # the day whose close the orders are placed at
    service_level: float
    forecast_model: str
    lines: list[PlanLine]

    def orders(self) -> list[PlanLine]:
        return [line for line in self.lines if line.packs > 0]


def plan_replenishment(
    history: History,
    run: MaterialForecast,
    *,
    stores: StockAt,
    warehouses: StockAt,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    currency: str = "CNY",
) -> PlanDraft:
    """Store and DC proposals for the close of the forecast's origin day."""
    network, goods = history.network, history.goods
    n_materials = len(goods.material_ids)
    variance = run.sigma**2  # (H, S, M)
    store_forecast = DemandForecast(
        mean=run.mean.transpose(1, 2, 0), sigma=run.sigma.transpose(1, 2, 0)
    )
    store_terms = OrderTerms(
        lead_days=np.maximum(network.store_lead_days, 1),
        review_days=np.ones(n_materials, dtype=np.int64),
        pack_size=goods.pack_size,
        min_order_packs=np.ones(n_materials, dtype=np.int64),
        shelf_life_days=goods.shelf_life_days,
    )
    store_plan = propose(
        StockPosition(stores.on_hand, stores.in_transit),
        store_forecast,
        store_terms,
        service_level=service_level,
        location_ids=[str(s) for s in network.store_ids],
        material_ids=[str(m) for m in goods.material_ids],
    )
    n_dcs = len(network.dc_ids)
    dc_mean = np.zeros((n_dcs, n_materials, run.horizon))
    dc_var = np.zeros_like(dc_mean)
    np.add.at(dc_mean, network.store_dc, run.mean.transpose(1, 2, 0))
    np.add.at(dc_var, network.store_dc, variance.transpose(1, 2, 0))
    supplier = goods.material_supplier
    dc_terms = OrderTerms(
        lead_days=np.broadcast_to(
            np.maximum(network.supplier_lead_days[supplier], 1), (n_dcs, n_materials)
        ),
        review_days=np.where(goods.shelf_life_days <= _PERISHABLE_DAYS, 1, 7),
        pack_size=goods.pack_size,
        min_order_packs=network.supplier_min_packs[supplier],
        shelf_life_days=goods.shelf_life_days,
    )
    serving = np.bincount(network.store_dc, minlength=n_dcs) > 0
    dc_plan = propose(
        StockPosition(warehouses.on_hand, warehouses.in_transit),
        DemandForecast(mean=dc_mean, sigma=np.sqrt(dc_var)),
        dc_terms,
        service_level=service_level,
        location_ids=[str(w) for w in network.dc_ids],
        material_ids=[str(m) for m in goods.material_ids],
    )
    lines = _lines(history, run, store_plan, "store", store_terms, currency)
    lines += [
        line
        for line in _lines(history, run, dc_plan, "warehouse", dc_terms, currency)
        if serving[list(network.dc_ids).index(line.location_id)]
    ]
    return PlanDraft(run.origin, service_level, run.model, lines)


def _lines(
    history: History,
    run: MaterialForecast,
    proposal: Proposal,
    location_type: str,
    terms: OrderTerms,
    currency: str,
) -> list[PlanLine]:
    network, goods = history.network, history.goods
    lead = np.asarray(terms.lead_days)
    lead = np.broadcast_to(lead[:, None] if lead.ndim == 1 else lead, proposal.packs.shape)
    lines = []
    shown = (proposal.packs > 0) | np.isin(
        proposal.reason, [i for i, r in enumerate(REASONS) if r in _SHOWN_WITHOUT_ORDER]
    )
    for loc, mat in np.argwhere(shown):
        days = int(lead[loc, mat])
        if location_type == "store":
            from_type, from_id = "warehouse", str(network.dc_ids[network.store_dc[loc]])
        else:
            from_type, from_id = "supplier", str(network.supplier_ids[goods.material_supplier[mat]])
        explanation = proposal.explain(int(loc), int(mat))
        lines.append(
            PlanLine(
                location_type=location_type,
                location_id=explanation.location_id,
                material_id=explanation.material_id,
                from_type=from_type,
                from_id=from_id,
                order_date=run.origin,
                arrival_date=run.origin + dt.timedelta(days=days),
                pack_size=int(goods.pack_size[mat]),
                packs=explanation.packs,
                quantity=explanation.quantity,
                currency=currency,
                pack_cost_minor=int(goods.pack_cost_minor[mat]),
                explanation=explanation,
            )
        )
    return lines
