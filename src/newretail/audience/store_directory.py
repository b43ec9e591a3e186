"""Where the stores a selection picks are: name, city, format and coordinates from the lake's DWD
``stores`` (a few thousand rows, read whole) for the console's list and map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq

from newretail.lake import Lake
from newretail.model import dwd

_COLUMNS = ["store_id", "name", "city", "format", "latitude", "longitude"]


@dataclass(frozen=True, slots=True)
class StoreEntry:
    store_id: str
    name: str | None
    city: str | None
    format: str | None
    latitude: float | None
    longitude: float | None


def store_entries(lake: Lake, store_ids: Sequence[str]) -> list[StoreEntry]:
    """The stores among ``store_ids`` the lake knows, in the order given."""
    files = lake.files("dwd", dwd.table("stores").name)
    if not files:
        return []
    table = pq.ParquetDataset([str(f) for f in files]).read(columns=_COLUMNS)
    by_id = {row["store_id"]: row for row in table.to_pylist()}
    return [StoreEntry(**by_id[s]) for s in store_ids if s in by_id]
