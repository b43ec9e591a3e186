"""Stores: where they are, their format and size, when they open (and a few close), which DC serves them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newretail.sim.catalog import NEVER
from newretail.sim.geography import CITIES, WAREHOUSES
from newretail.sim.rng import stream

FORMATS = ("flagship", "standard", "pickup", "delivery_kitchen")
DELIVERY_KITCHEN = 3
_FORMAT_SHARE = np.array([0.08, 0.6, 0.22, 0.10])
_AREA = np.array([260.0, 110.0, 35.0, 60.0])  # median floor area by format, m2
_SEATS = np.array([80, 30, 0, 0])
# Relative walk-in traffic by format (delivery kitchens have none).
WALK_IN = np.array([2.0, 1.0, 0.5, 0.0])


@dataclass(frozen=True)
class Stores:
    """Arrays over stores (axis S)."""

    ids: list[str]
    names: list[str]
    city: np.ndarray  # int index into CITIES
    format: np.ndarray  # int index into FORMATS
    open_day: np.ndarray  # first trading day relative to the start (negative: before it)
    close_day: np.ndarray  # first day no longer trading; NEVER while open
    area_m2: np.ndarray
    seats: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    warehouse: np.ndarray  # int index into WAREHOUSES
    currency: np.ndarray  # 0 CNY, 1 SGD

    def __len__(self) -> int:
        return len(self.ids)

    def open_on(self, day: int) -> np.ndarray:
        return (self.open_day <= day) & (day < self.close_day)


def build_stores(seed: int, count: int, days: int) -> Stores:
    rng = stream(seed, "stores")
    weights = np.array([c.weight for c in CITIES])
    city = rng.choice(len(CITIES), size=count, p=weights / weights.sum())
    fmt = rng.choice(len(FORMATS), size=count, p=_FORMAT_SHARE)
    # The first store is the Shanghai flagship; with five or more stores one trades in Singapore.
    city[0], fmt[0] = 0, 0
    singapore = next(i for i, c in enumerate(CITIES) if c.country == "SG")
    if count >= 5 and not (city == singapore).any():
        city[count - 1] = singapore
    fmt[(fmt == DELIVERY_KITCHEN) & (np.arange(count) < 2)] = 1
    opens_later = rng.random(count) < 0.25
    opens_later[0] = False
    open_day = np.where(
        opens_later,
        rng.integers(1, max(2, days - 6), size=count),
        -rng.integers(30, 1500, size=count),
    )
    closes = (~opens_later) & (rng.random(count) < 0.03)
    closes[0] = False
    close_day = np.where(closes, rng.integers(days // 3, days, size=count), NEVER)
    center_lat = np.array([c.latitude for c in CITIES])[city]
    center_lon = np.array([c.longitude for c in CITIES])[city]
    area = np.round(_AREA[fmt] * rng.lognormal(0, 0.25, count), 1)
    seats = (_SEATS[fmt] * rng.uniform(0.7, 1.3, count)).astype(np.int64)
    dc_index = {w.warehouse_id: i for i, w in enumerate(WAREHOUSES)}
    warehouse = np.array([dc_index[CITIES[c].warehouse] for c in city])
    ids = [f"S{i + 1:04d}" for i in range(count)]
    labels = {0: "旗舰店", 1: "店", 2: "快取店", 3: "外卖厨房"}
    names = [
        f"山川咖啡{CITIES[c].name_zh}{i + 1:04d}{labels[int(f)]}"
        for i, (c, f) in enumerate(zip(city, fmt, strict=True))
    ]
    return Stores(
        ids=ids,
        names=names,
        city=city,
        format=fmt,
        open_day=open_day,
        close_day=close_day,
        area_m2=area,
        seats=seats,
        latitude=np.round(center_lat + rng.normal(0, 0.06, count), 6),
        longitude=np.round(center_lon + rng.normal(0, 0.06, count), 6),
        warehouse=warehouse,
        currency=np.array([int(CITIES[c].currency == "SGD") for c in city]),
    )
