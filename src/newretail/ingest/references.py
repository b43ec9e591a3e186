"""Known stores, warehouses, products and materials (with time zones), read from the ODS layer.

Dimension files are ingested first, so reading the lake after they are written covers both what the
lake held before and what this run added; a write to a reference table drops its cached copy.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.lake.storage import Lake

# Registered name in validation SQL -> (canonical table, id column, time zone column or None).
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "ref_store": ("stores", "store_id", "timezone"),
    "ref_warehouse": ("warehouses", "warehouse_id", "timezone"),
    "ref_product": ("products", "product_id", None),
    "ref_material": ("materials", "material_id", None),
}


class References:
    """Reference tables as Arrow (``id`` and, for places, ``tz``), cached until their table changes."""

    def __init__(self, lake: Lake) -> None:
        self._lake = lake
        self._cache: dict[str, pa.Table] = {}

    def get(self, name: str) -> pa.Table:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def changed(self, table: str) -> None:
        for name, (source_table, _, _) in SOURCES.items():
            if source_table == table:
                self._cache.pop(name, None)

    def _load(self, name: str) -> pa.Table:
        table, id_column, tz_column = SOURCES[name]
        wanted = [id_column] + ([tz_column] if tz_column else [])
        renamed = ["id"] + (["tz"] if tz_column else [])
        schema = pa.schema([pa.field(n, pa.string()) for n in renamed])
        parts = [
            pq.read_table(path, columns=wanted).rename_columns(renamed).cast(schema)
            for path in self._lake.files("ods", table)
        ]
        if not parts:
            return schema.empty_table()
        combined = pa.concat_tables(parts)
        if tz_column is None:
            return pa.Table.from_arrays([pc.unique(combined["id"])], names=["id"])
        # The same id may come from several sources; one time zone per id is enough to convert.
        grouped = combined.group_by("id", use_threads=False).aggregate([("tz", "first")])
        return pa.Table.from_arrays([grouped["id"], grouped["tz_first"]], names=["id", "tz"])
