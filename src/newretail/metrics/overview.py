"""The chain overview: sales, orders, average basket and active members over a period of business
dates, with a daily trend and a split by channel, optionally limited to a store scope.

The queries are Ibis expressions over DWS ``store_day`` (money and orders) and DWD ``orders`` (the
channel split and distinct members, which ``store_day`` cannot give for a period); the lake's engine
runs them. Money stays in integer minor units beside its currency: nothing here adds amounts across
currencies.

>>> period = Period.ending(dt.date(2026, 3, 31), days=30)
>>> (period.first, period.days)
(datetime.date(2026, 3, 2), 30)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.lake.engines import Engine
from newretail.lake.storage import Lake, Layer
from newretail.model import dwd, dws

_COMPLETED = "completed"
_DATE = "business_date"

_SALES_FIELDS: list[pa.Field[Any]] = [
    pa.field("currency", pa.string()),
    pa.field("paid_minor", pa.int64()),
    pa.field("orders", pa.int64()),
]
TOTALS_SCHEMA = pa.schema(_SALES_FIELDS)
TREND_SCHEMA = pa.schema([pa.field(_DATE, pa.date32()), *_SALES_FIELDS])
CHANNELS_SCHEMA = pa.schema([pa.field("channel", pa.string()), *_SALES_FIELDS])
MEMBERS_SCHEMA = pa.schema([pa.field("members", pa.int64())])


@dataclass(frozen=True, slots=True)
class Period:
    """Business dates ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    @classmethod
    def ending(cls, last: dt.date, *, days: int) -> Period:
        """The ``days`` business dates that end with ``last``."""
        if days < 1:
            raise ValueError("a period has at least one day")
        return cls(first=last - dt.timedelta(days=days - 1), last=last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (for comparisons)."""
        return Period.ending(self.first - dt.timedelta(days=1), days=self.days)

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True, slots=True)
class Sales:
    """Money paid and completed orders in one currency, for whatever the row is keyed by."""

    currency: str
    paid_minor: int
    orders: int

    @property
    def basket_minor(self) -> Decimal | None:
        """Average paid per completed order, in minor units (exact; the caller rounds for display)."""
        return Decimal(self.paid_minor) / self.orders if self.orders else None


@dataclass(frozen=True, slots=True)
class DaySales(Sales):
    business_date: dt.date


@dataclass(frozen=True, slots=True)
class ChannelSales(Sales):
    channel: str


@dataclass(frozen=True, slots=True)
class Overview:
    """The figures of one period; ``stores`` is the scope they were limited to (None: the chain)."""

    period: Period
    stores: frozenset[str] | None
    totals: tuple[Sales, ...]
    active_members: int
    trend: tuple[DaySales, ...]
    channels: tuple[ChannelSales, ...]

    @property
    def orders(self) -> int:
        """Completed orders in every currency (a count, so adding across currencies is sound)."""
        return sum(total.orders for total in self.totals)

    def total(self, currency: str) -> Sales | None:
        return next((t for t in self.totals if t.currency == currency), None)


def latest_business_date(lake: Lake) -> dt.date | None:
    """The newest business date with a ``store_day`` partition, or None when the lake has none."""
    dates = [p[_DATE] for p in lake.partitions("dws", dws.STORE_DAY.name) if _DATE in p]
    return dt.date.fromisoformat(max(dates)) if dates else None


def chain_overview(
    lake: Lake, engine: Engine, *, period: Period, stores: frozenset[str] | None = None
) -> Overview:
    """The overview figures for ``period``, limited to ``stores`` unless it is None."""
    store_day = _read(lake, engine, "dws", dws.STORE_DAY.name, dws.STORE_DAY.schema, period)
    spec = dwd.table("orders")
    orders = _read(lake, engine, "dwd", spec.name, spec.schema, period)
    try:
        totals = engine.execute(
            totals_query(store_day, period=period, stores=stores),
            schema=TOTALS_SCHEMA,
            label="overview totals",
        )
        trend = engine.execute(
            trend_query(store_day, period=period, stores=stores),
            schema=TREND_SCHEMA,
            label="overview trend",
        )
        channels = engine.execute(
            channel_query(orders, period=period, stores=stores),
            schema=CHANNELS_SCHEMA,
            label="overview channels",
        )
        members = engine.execute(
            active_members_query(orders, period=period, stores=stores),
            schema=MEMBERS_SCHEMA,
            label="overview members",
        )
    finally:
        engine.release()
    return Overview(
        period=period,
        stores=stores,
        totals=tuple(Sales(**row) for row in _rows(totals)),
        active_members=int(members.column("members")[0].as_py() or 0),
        trend=tuple(DaySales(**row) for row in _rows(trend)),
        channels=tuple(ChannelSales(**row) for row in _rows(channels)),
    )


def totals_query(store_day: ir.Table, *, period: Period, stores: frozenset[str] | None) -> ir.Table:
    """Paid and completed orders per currency over the period."""
    days = _within(store_day, period, stores)
    return _sales(days, ["currency"], paid=days.paid_minor, orders=days.completed_orders)


def trend_query(store_day: ir.Table, *, period: Period, stores: frozenset[str] | None) -> ir.Table:
    """Paid and completed orders per business date and currency."""
    days = _within(store_day, period, stores)
    return _sales(days, [_DATE, "currency"], paid=days.paid_minor, orders=days.completed_orders)


def channel_query(orders: ir.Table, *, period: Period, stores: frozenset[str] | None) -> ir.Table:
    """Paid and completed orders per channel and currency (DWD keeps one copy of a platform order)."""
    done = _within(orders, period, stores)
    done = done.filter(done.status == _COMPLETED)
    return _sales(done, ["channel", "currency"], paid=done.paid_minor, orders=ibis.literal(1))


def active_members_query(
    orders: ir.Table, *, period: Period, stores: frozenset[str] | None
) -> ir.Table:
    """Distinct identity records with a completed order in the period: one row, one column."""
    done = _within(orders, period, stores)
    done = done.filter((done.status == _COMPLETED) & done.identity_record_id.notnull())
    # The separator cannot occur in a source name, so two records never collide.
    identity = done.identity_source.concat("\x1f", done.identity_record_id)
    return done.aggregate(members=identity.nunique().cast("int64"))


def _within(table: ir.Table, period: Period, stores: frozenset[str] | None) -> ir.Table:
    rows = table.filter(table[_DATE].between(period.first, period.last))
    return rows if stores is None else rows.filter(rows.store_id.isin(sorted(stores)))


def _sales(
    table: ir.Table, keys: list[str], *, paid: ir.IntegerValue, orders: ir.IntegerValue
) -> ir.Table:
    grouped = table.mutate(_paid=paid, _orders=orders).group_by(keys)
    return grouped.aggregate(
        paid_minor=ibis._["_paid"].sum().fill_null(0), orders=ibis._["_orders"].sum().fill_null(0)
    ).order_by(keys)


def _read(
    lake: Lake, engine: Engine, layer: Layer, table: str, schema: pa.Schema, period: Period
) -> ir.Table:
    # Only the partitions inside the period are read: the files hold a day each.
    wanted = {d.isoformat() for d in period.dates()}
    files = [
        file
        for file, partition in zip(
            lake.files(layer, table), lake.partitions(layer, table), strict=True
        )
        if partition.get(_DATE) in wanted
    ]
    return engine.read(files, base=lake.table_dir(layer, table), schema=schema)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
