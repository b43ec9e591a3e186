"""Transfer and network problems built from the lake: tonight's stock, the published forecast and
the network's coordinates, with the cost assumptions written down once here.

Transfers, per store × material (base units, ``z`` at the planning service level):
- shortage = what the store will lack before its next delivery can arrive: forecast over the lead
  time plus safety stock, minus on hand and what arrives in that time;
- surplus = stock beyond what the store can use within the material's shelf life (or the forecast
  horizon when shorter), at the same service level: it would expire or sit unsold.
Network: stores' demand is their average daily units sold over the last four weeks; a DC handles
``capacity_pallets * UNITS_PER_PALLET_DAY`` units a day; candidate sites are the centres of the
cities that have stores and no DC.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from newretail.supply.forecast.run import MaterialForecast
from newretail.supply.geo import distance_km
from newretail.supply.history import History
from newretail.supply.network import NetworkProblem
from newretail.supply.replenish.position import StockAt
from newretail.supply.transfers import TransferProblem


@dataclass(frozen=True)
class TransferCostsIn:
    """Minor units. A pack short loses its sales (``lost_sale_multiple`` times its cost); a pack
    wasted loses its cost; a trip costs a fixed amount plus a rate per km."""

    trip_cost: int = 5_000
    cost_per_km: int = 300
    max_km: float = 15.0
    lost_sale_multiple: int = 3
    service_level: float = 0.9


@dataclass(frozen=True)
class NetworkCostsIn:
    """Minor units: running a DC per day, opening and closing one, moving a unit a kilometre."""

    running_per_day: int = 200_000
    opening: int = 5_000_000
    closing: int = 1_000_000
    per_unit_km: int = 1
    horizon_days: int = 365


UNITS_PER_PALLET_DAY = 5
_DEMAND_DAYS = 28
_SAME_CITY_KM = 50.0


def transfer_problem(
    history: History,
    stock: StockAt,
    forecast: MaterialForecast,
    costs: TransferCostsIn | None = None,
) -> TransferProblem:
    """Stores' surplus and shortage per material tonight, priced by ``costs``."""
    costs = costs or TransferCostsIn()
    network, goods = history.network, history.goods
    z = NormalDist().inv_cdf(costs.service_level)
    mean = forecast.mean.transpose(1, 2, 0)  # (S, M, H)
    variance = (forecast.sigma**2).transpose(1, 2, 0)
    horizon = mean.shape[2]
    lead = np.clip(network.store_lead_days, 1, horizon)  # (S,)
    days = np.arange(horizon)
    until_delivery = days[None, :] < lead[:, None]  # (S, H)
    need = (mean * until_delivery[:, None, :]).sum(axis=2) + z * np.sqrt(
        (variance * until_delivery[:, None, :]).sum(axis=2)
    )
    arriving = (
        stock.in_transit[:, :, :horizon] * until_delivery[:, None, : stock.in_transit.shape[2]]
    )
    shortage = np.maximum(0, np.ceil(need - stock.on_hand - arriving.sum(axis=2)))
    usable = days[None, :] < np.minimum(goods.shelf_life_days, horizon)[:, None]  # (M, H)
    use = (mean * usable[None, :, :]).sum(axis=2) + z * np.sqrt(
        (variance * usable[None, :, :]).sum(axis=2)
    )
    surplus = np.maximum(0, np.floor(stock.on_hand - use))
    return TransferProblem.build(
        location_ids=[str(s) for s in network.store_ids],
        lat=network.store_lat,
        lon=network.store_lon,
        material_ids=[str(m) for m in goods.material_ids],
        surplus=surplus.astype(np.int64),
        shortage=shortage.astype(np.int64),
        pack_size=goods.pack_size,
        lost_sale_cost=goods.pack_cost_minor * costs.lost_sale_multiple,
        waste_cost=goods.pack_cost_minor,
        trip_cost=costs.trip_cost,
        cost_per_km=costs.cost_per_km,
        max_km=costs.max_km,
    )


def network_problem(history: History, costs: NetworkCostsIn | None = None) -> NetworkProblem:
    """Today's DCs and one candidate site per city with stores but no DC."""
    costs = costs or NetworkCostsIn()
    network = history.network
    capacity_pallets = network.dc_capacity_pallets
    recent = history.sales.units[-_DEMAND_DAYS:].sum(axis=2)  # (D, S)
    demand = recent.mean(axis=0)
    centres = {
        str(c): (
            float(network.store_lat[network.store_city == c].mean()),
            float(network.store_lon[network.store_city == c].mean()),
        )
        for c in np.unique(network.store_city)
    }
    # A city whose centre has a DC within 50 km is served from inside it already.
    cities = [
        c
        for c, (lat, lon) in sorted(centres.items())
        if not (distance_km(network.dc_lat, network.dc_lon, lat, lon) <= _SAME_CITY_KM).any()
    ]
    site_ids = [str(d) for d in network.dc_ids] + [f"NEW-{c}" for c in cities]
    site_lat = list(network.dc_lat) + [centres[c][0] for c in cities]
    site_lon = list(network.dc_lon) + [centres[c][1] for c in cities]
    existing = [True] * len(network.dc_ids) + [False] * len(cities)
    biggest = float(capacity_pallets.max()) if len(capacity_pallets) else 0.0
    capacity = [float(c) * UNITS_PER_PALLET_DAY for c in capacity_pallets] + [
        biggest * UNITS_PER_PALLET_DAY
    ] * len(cities)
    return NetworkProblem.build(
        store_ids=[str(s) for s in network.store_ids],
        store_lat=network.store_lat,
        store_lon=network.store_lon,
        demand=demand,
        site_ids=site_ids,
        site_lat=site_lat,
        site_lon=site_lon,
        capacity=capacity,
        existing=existing,
        running_cost=[costs.running_per_day] * len(site_ids),
        opening_cost=[0] * len(network.dc_ids) + [costs.opening] * len(cities),
        closing_cost=[costs.closing] * len(network.dc_ids) + [0] * len(cities),
        cost_per_unit_km=costs.per_unit_km,
        horizon_days=costs.horizon_days,
        current=[str(network.dc_ids[d]) for d in network.store_dc],
    )
