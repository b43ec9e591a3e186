"""The day's alerts from the lake: stock-outs from the newest forecast published by the day's close,
late and short deliveries from purchase orders and deliveries, expiring stock from the lots.

A kind that cannot be computed is skipped with its reason and the others still are: the stock-out
check needs a published forecast run with origin on or before ``as_of`` whose days reach
``as_of + L`` for the longest lead time (codes ``supply.no_forecast``,
``supply.forecast_too_short``); without one, expiry counts all expiring store stock as at risk
rather than playing the forecast forward. A store × material with no stock count in the week before
``as_of`` is not judged for stock-outs: its on hand is unknown, not zero.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from newretail.config import Engine as EngineName
from newretail.lake.engines import connect_engine
from newretail.lake.storage import Lake
from newretail.supply.alerts.alert import Alert, Computed, LocationType, Skipped
from newretail.supply.alerts.deliveries import OrderLine, delivery_alerts
from newretail.supply.alerts.expiry import DEFAULT_WINDOW_DAYS, MaterialCosts, expiring
from newretail.supply.alerts.lake_inputs import (
    MaterialLabels,
    material_labels,
    short_lines,
    usable_lots,
)
from newretail.supply.alerts.stockout import stockouts
from newretail.supply.forecast.publish import load_material_forecast, published_runs
from newretail.supply.history import Goods, History, load_history
from newretail.supply.lake_reader import LakeReader
from newretail.supply.replenish.position import StockAt, stock_at


def compute_alerts(
    lake: Lake,
    *,
    engine: EngineName,
    as_of: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Computed:
    """Every alert as of the close of ``as_of`` (stock-outs, late and short deliveries, expiry)."""
    # The network and goods are what is wanted here; one day of sales is the least history loads.
    history = load_history(lake, engine=engine, days=1)
    network, goods = history.network, history.goods
    lead = np.maximum(network.store_lead_days, 1)
    days = max(int(lead.max(initial=1)), window_days)
    stores, dcs = (
        stock_at(
            lake,
            engine=engine,
            goods=goods,
            location_type=where,
            location_ids=ids,
            as_of=as_of,
            days_ahead=days,
        )
        for where, ids in (("store", network.store_ids), ("warehouse", network.dc_ids))
    )
    demand, skipped = _forecast(lake, history, as_of, days)
    with connect_engine(engine) as runner:
        reader = LakeReader(lake, runner)
        labels = material_labels(reader, goods)
        found = _expiring(
            reader,
            goods,
            labels,
            as_of=as_of,
            window_days=window_days,
            places=(
                ("store", stores, None if demand is None else demand[:, :, :window_days]),
                ("warehouse", dcs, None),
            ),
        )
        lines = [
            *_late(stores, "store", "warehouse"),
            *_late(dcs, "warehouse", "supplier"),
            *short_lines(reader, as_of=as_of),
        ]
    found += delivery_alerts(
        lines, as_of=as_of, pack_size=_packs(goods), units=_units(goods, labels.unit)
    )
    if demand is not None:
        outs = stockouts(
            as_of=as_of,
            store_ids=stores.location_ids,
            material_ids=goods.material_ids,
            on_hand=stores.on_hand,
            in_transit=stores.in_transit,
            forecast=demand,
            lead_days=lead,
            units=labels.unit,
        )
        found = _counted(outs, stores, goods) + found
    return Computed(as_of=as_of, alerts=found, skipped=skipped)


def _expiring(
    reader: LakeReader,
    goods: Goods,
    labels: MaterialLabels,
    *,
    as_of: dt.date,
    window_days: int,
    places: tuple[tuple[LocationType, StockAt, np.ndarray | None], ...],
) -> list[Alert]:
    """Expiry alerts of each location type, with its demand forecast where there is one."""
    costs = MaterialCosts(goods.pack_size, goods.pack_cost_minor, labels.currency, labels.unit)
    found: list[Alert] = []
    for where, stock, demand in places:
        lots = usable_lots(
            reader,
            goods,
            location_type=where,
            location_ids=stock.location_ids,
            as_of=as_of,
            window_days=window_days,
        )
        found += expiring(
            as_of=as_of,
            location_type=where,
            location_ids=stock.location_ids,
            material_ids=goods.material_ids,
            on_hand=stock.on_hand,
            lots=lots,
            costs=costs,
            demand=demand,
        )
    return found


def _forecast(
    lake: Lake, history: History, as_of: dt.date, days: int
) -> tuple[np.ndarray | None, list[Skipped]]:
    """Mean demand (S, M, days) on ``as_of + 1 ..`` from the newest run published by ``as_of``."""
    run = next((r for r in published_runs(lake) if r.origin <= as_of), None)
    if run is None:
        reason = f"no forecast run published with origin on or before {as_of}: run the forecast"
        return None, [Skipped("stockout", "supply.no_forecast", reason)]
    start = (as_of - run.origin).days
    if start + days > run.horizon:
        last = run.origin + dt.timedelta(days=run.horizon)
        needed = as_of + dt.timedelta(days=days)
        reason = f"the forecast from {run.origin} ends on {last}; the check needs days to {needed}"
        return None, [Skipped("stockout", "supply.forecast_too_short", reason)]
    mean = load_material_forecast(lake, history, run).mean[start : start + days]
    return mean.transpose(1, 2, 0), []


def _counted(alerts: list[Alert], stores: StockAt, goods: Goods) -> list[Alert]:
    s_index = {str(s): i for i, s in enumerate(stores.location_ids)}
    m_index = {str(m): i for i, m in enumerate(goods.material_ids)}
    return [a for a in alerts if stores.counted[s_index[a.location_id], m_index[a.material_id]]]


def _packs(goods: Goods) -> dict[str, int]:
    return {str(m): int(p) for m, p in zip(goods.material_ids, goods.pack_size, strict=True)}


def _units(goods: Goods, units: np.ndarray) -> dict[str, str]:
    return {str(m): str(u) for m, u in zip(goods.material_ids, units, strict=True)}


def _late(stock: StockAt, location_type: LocationType, from_type: str) -> list[OrderLine]:
    """The lines past their expected day with nothing delivered, as :func:`stock_at` found them."""
    return [
        OrderLine(
            location_type=location_type,
            location_id=line.location_id,
            material_id=line.material_id,
            po_id=line.po_id,
            from_type=from_type,
            from_id=line.from_id,
            expected_on=line.expected_on,
            ordered_packs=line.ordered_packs,
            delivered_packs=line.delivered_packs,
        )
        for line in stock.late
    ]
