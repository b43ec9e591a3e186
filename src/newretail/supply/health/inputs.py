"""The lake tables an inventory health report reads, limited to the days it needs, and the checks on
its arguments (period, grouping, stores) that name the bad field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis.expr.types as ir

from newretail.errors import InvalidInput, NoData
from newretail.lake.engines import Engine
from newretail.lake.storage import Lake, Layer
from newretail.model import dwd, dws
from newretail.supply.health.model import GROUPINGS, GroupBy

MAX_DAYS = 366


@dataclass(frozen=True)
class Request:
    first: dt.date
    last: dt.date
    group_by: GroupBy
    stores: frozenset[str] | None


def check_request(
    first: dt.date, last: dt.date, group_by: str, stores: frozenset[str] | None
) -> Request:
    """The arguments, or :class:`InvalidInput` naming the first bad one."""
    if first > last:
        raise InvalidInput("supply.bad_period", f"from {first} is after to {last}", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(
            "supply.bad_period", f"a period of at most {MAX_DAYS} days, please", field="to"
        )
    if group_by not in GROUPINGS:
        raise InvalidInput(
            "supply.bad_group_by",
            f"group by one of {', '.join(GROUPINGS)}, not {group_by!r}",
            field="group_by",
        )
    if stores is not None and group_by == "dc":
        raise InvalidInput(
            "supply.bad_group_by", "a store filter leaves out every DC", field="group_by"
        )
    return Request(first, last, group_by, stores)


class Tables:
    """Lake tables read through one engine, each limited to the dates asked for."""

    def __init__(self, lake: Lake, engine: Engine) -> None:
        self.lake, self.engine = lake, engine

    def dated(self, layer: Layer, name: str, first: dt.date, last: dt.date) -> ir.Table:
        """A table partitioned by business date: only the partitions inside first .. last."""
        spec = dws.table(name) if layer == "dws" else dwd.table(name)
        wanted = {
            (first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
        }
        files = [
            file
            for file, partition in zip(
                self.lake.files(layer, name), self.lake.partitions(layer, name), strict=True
            )
            if partition.get("business_date") in wanted
        ]
        table = self.engine.read(files, base=self.lake.table_dir(layer, name), schema=spec.schema)
        return table.filter(table.business_date.between(first, last))

    def whole(self, name: str) -> ir.Table:
        """A DWD dimension table (stores, materials, products)."""
        spec = dwd.table(name)
        files = self.lake.files("dwd", name)
        return self.engine.read(files, base=self.lake.table_dir("dwd", name), schema=spec.schema)

    def require(self, layer: Layer, name: str) -> None:
        if not self.lake.files(layer, name):
            raise NoData(
                "supply.no_stock_data", f"the lake has no {layer} {name}: ingest and build first"
            )


def check_stores(tables: Tables, stores: frozenset[str] | None) -> None:
    """:class:`InvalidInput` ``supply.unknown_store`` for a store the lake does not know."""
    if not stores:
        return
    known = tables.whole("stores")
    found = tables.engine.execute(
        known.filter(known.store_id.isin(sorted(stores))).select("store_id"),
        schema=known.select("store_id").schema().to_pyarrow(),
        label="health stores",
    )
    missing = sorted(stores - set(found.column("store_id").to_pylist()))
    if missing:
        raise InvalidInput(
            "supply.unknown_store", f"unknown store {', '.join(missing)}", field="stores"
        )


def materials(tables: Tables) -> tuple[ir.Table, str | None]:
    """Materials with what a base unit is worth (core flag, pack size, pack cost) and the currency
    of their costs; :class:`InvalidInput` for a material without a pack size or priced in a second
    currency (costs in two currencies cannot be added)."""
    m = tables.whole("materials")
    shaped = m.select(
        "material_id",
        is_core=m.is_core.fill_null(False),
        pack_size=m.pack_size.cast("int64"),
        pack_cost=m.pack_cost_minor.fill_null(0).cast("int64"),
        currency=m.currency,
    )
    rows = tables.engine.execute(
        shaped.order_by("material_id"),
        schema=shaped.schema().to_pyarrow(),
        label="health materials",
    ).to_pylist()
    if not rows:
        raise NoData("supply.no_stock_data", "the lake has no materials: ingest and build first")
    currencies: set[str] = set()
    for row in rows:
        if row["pack_size"] is None or row["pack_size"] <= 0:
            raise InvalidInput(
                "supply.missing_pack_size",
                f"pack size missing or zero for {row['material_id']}",
                field=row["material_id"],
            )
        if row["currency"] is not None:
            currencies.add(row["currency"])
            if len(currencies) > 1:
                raise InvalidInput(
                    "supply.mixed_currency",
                    f"material {row['material_id']} is costed in a second currency"
                    f" ({', '.join(sorted(currencies))})",
                    field=row["material_id"],
                )
    return shaped, next(iter(currencies), None)


def value_minor(units: ir.IntegerValue, pack_cost: ir.Value, pack_size: ir.Value) -> ir.Value:
    """``units`` of a material in minor units, rounded half up: floor(units × cost / size + ½)."""
    return ((units * pack_cost * 2 + pack_size) // (pack_size * 2)).cast("int64")


def in_scope(table: ir.Table, stores: frozenset[str] | None) -> ir.Table:
    """Rows of stores in ``stores`` only (no DC rows), or every row when it is None."""
    if stores is None:
        return table
    return table.filter((table.location_type == "store") & table.location_id.isin(sorted(stores)))


def week_of(date: ir.DateValue) -> ir.DateValue:
    """The Monday of the date's ISO week."""
    return date.truncate("W")
