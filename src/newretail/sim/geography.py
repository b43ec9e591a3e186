"""Cities, their DCs and climates: where the chain trades and which DC replenishes each city."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class City:
    name: str
    name_zh: str
    country: str
    timezone: str
    currency: str
    latitude: float
    longitude: float
    weight: float  # share of stores and members
    warehouse: str
    mean_temp_c: tuple[float, float]  # January, July means
    rain_share: tuple[float, float]  # probability of a rainy day in January, July


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    name: str
    city: str
    country: str
    timezone: str
    latitude: float
    longitude: float
    lead_time_days: int
    capacity_pallets: int


_CN = ("CN", "Asia/Shanghai", "CNY")
_SG = ("SG", "Asia/Singapore", "SGD")
CITIES: tuple[City, ...] = (
    City("Shanghai", "上海", *_CN, 31.2304, 121.4737, 0.22, "W01", (4.5, 28.5), (0.3, 0.45)),
    City("Beijing", "北京", *_CN, 39.9042, 116.4074, 0.14, "W02", (-3.0, 27.0), (0.05, 0.45)),
    City("Shenzhen", "深圳", *_CN, 22.5431, 114.0579, 0.11, "W03", (15.5, 29.0), (0.15, 0.6)),
    City("Guangzhou", "广州", *_CN, 23.1291, 113.2644, 0.09, "W03", (14.0, 29.0), (0.2, 0.6)),
    City("Hangzhou", "杭州", *_CN, 30.2741, 120.1551, 0.09, "W01", (4.5, 29.0), (0.35, 0.45)),
    City("Chengdu", "成都", *_CN, 30.5728, 104.0668, 0.08, "W04", (6.0, 25.5), (0.25, 0.55)),
    City("Wuhan", "武汉", *_CN, 30.5928, 114.3055, 0.06, "W04", (4.0, 29.5), (0.3, 0.45)),
    City("Nanjing", "南京", *_CN, 32.0603, 118.7969, 0.06, "W01", (3.0, 28.0), (0.3, 0.45)),
    City("Suzhou", "苏州", *_CN, 31.2989, 120.5853, 0.05, "W01", (4.0, 28.5), (0.3, 0.45)),
    City("Singapore", "新加坡", *_SG, 1.3521, 103.8198, 0.10, "W05", (26.5, 28.0), (0.55, 0.4)),
)

WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse("W01", "华东中心仓 East DC", "Shanghai", *_CN[:2], 31.10, 121.25, 1, 4000),
    Warehouse("W02", "华北中心仓 North DC", "Beijing", *_CN[:2], 39.75, 116.55, 2, 2500),
    Warehouse("W03", "华南中心仓 South DC", "Guangzhou", *_CN[:2], 23.05, 113.45, 1, 3000),
    Warehouse("W04", "华中西南仓 Central-West DC", "Wuhan", *_CN[:2], 30.45, 114.20, 2, 2000),
    Warehouse("W05", "Singapore DC", "Singapore", *_SG[:2], 1.33, 103.70, 1, 800),
)


def utc_offset_seconds(timezone: str, on: dt.date) -> int:
    """The zone's UTC offset at local noon of ``on`` (both zones here keep +08:00 all year)."""
    noon = dt.datetime(on.year, on.month, on.day, 12, tzinfo=ZoneInfo(timezone))
    offset = noon.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
