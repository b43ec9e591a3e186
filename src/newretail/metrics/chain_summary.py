"""The chain summary printed after a build: stores, members, orders, sales by channel and month per
currency, and the rows ingest rejected, by reason.

Queries are Ibis expressions over DWD tables and the quarantine; the lake's engine runs them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.config import Engine as EngineName
from newretail.errors import NoData
from newretail.ingest.quarantine import SCHEMA as QUARANTINE_SCHEMA
from newretail.lake.engines import Engine, connect_engine
from newretail.lake.storage import Lake, Layer
from newretail.model import codes, dwd


def _schema(**columns: pa.DataType) -> pa.Schema:
    fields: list[pa.Field[Any]] = [pa.field(name, type_) for name, type_ in columns.items()]
    return pa.schema(fields)


_MONTHLY = _schema(
    month=pa.string(),
    channel=pa.string(),
    currency=pa.string(),
    orders=pa.int64(),
    paid_minor=pa.int64(),
)
_SPAN = _schema(first=pa.date32(), last=pa.date32())
_COUNTS = _schema(label=pa.string(), n=pa.int64())
_REJECTS = _schema(reason=pa.string(), declaration=pa.string(), n=pa.int64())


@dataclass(frozen=True)
class Block:
    """A titled table of text cells, ready for any renderer."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class ChainSummary:
    stores_by_country: dict[str, int]
    identity_records_by_source: dict[str, int]
    first_date: dt.date | None
    last_date: dt.date | None
    monthly: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def completed_orders(self) -> int:
        return sum(int(row["orders"]) for row in self.monthly)

    def headline(self) -> str:
        stores = sum(self.stores_by_country.values())
        by_country = ", ".join(f"{c} {n}" for c, n in sorted(self.stores_by_country.items()))
        members = sum(self.identity_records_by_source.values())
        span = f"{self.first_date} to {self.last_date}" if self.first_date else "no trading days"
        return (
            f"{stores:,} stores ({by_country}); {members:,} member records in "
            f"{len(self.identity_records_by_source)} source systems; "
            f"{self.completed_orders:,} completed orders, {span}"
        )

    def tables(self) -> list[Block]:
        return [*self._sales_blocks(), self._members_block(), self._rejected_block()]

    def _sales_blocks(self) -> list[Block]:
        by_currency: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for row in self.monthly:
            month, channel = str(row["month"]), str(row["channel"])
            by_currency[str(row["currency"])][month][channel] = int(row["paid_minor"])
        blocks = []
        for currency, months in sorted(by_currency.items()):
            channels = [c for c in codes.CHANNELS if any(c in m for m in months.values())]
            rows = [
                (
                    month,
                    *(_money(values.get(c, 0)) for c in channels),
                    _money(sum(values.values())),
                )
                for month, values in sorted(months.items())
            ]
            blocks.append(
                Block(
                    title=f"Sales by channel and month, {currency} (paid on completed orders, whole units)",
                    columns=("month", *channels, "total"),
                    rows=rows,
                )
            )
        return blocks

    def _members_block(self) -> Block:
        rows = [(s, f"{n:,}") for s, n in sorted(self.identity_records_by_source.items())]
        return Block("Member records by source (before OneID)", ("source", "records"), rows)

    def _rejected_block(self) -> Block:
        rows = [
            (str(r["reason"]), str(r["declaration"]), f"{int(r['n']):,}") for r in self.rejected
        ] or [("none", "-", "0")]
        return Block(
            "Rejected rows by reason (in quarantine)", ("reason", "file kind", "rows"), rows
        )


def chain_summary(lake: Lake, *, engine: EngineName) -> ChainSummary:
    """Summarise what the lake holds; raises ``NoData`` when nothing has been built yet."""
    if not lake.files("dwd", "orders"):
        raise NoData("summary.no_data", "the lake has no built orders: run ingest and build first")
    with connect_engine(engine) as runner:
        orders = _read(lake, runner, "dwd", "orders")
        completed = orders.filter(orders.status == "completed")
        monthly = completed.group_by(
            month=completed.business_date.strftime("%Y-%m"),
            channel=completed.channel,
            currency=completed.currency,
        ).aggregate(orders=completed.count(), paid_minor=completed.paid_minor.sum())
        span = completed.aggregate(
            first=completed.business_date.min(), last=completed.business_date.max()
        )
        stores = _read(lake, runner, "dwd", "stores")
        records = _read(lake, runner, "dwd", "identity_records")
        (first_last,) = _run(runner, span, _SPAN, "trading days")
        return ChainSummary(
            stores_by_country=_counts(runner, stores, stores.country, "stores by country"),
            identity_records_by_source=_counts(
                runner, records, records.source, "records by source"
            ),
            first_date=first_last["first"],
            last_date=first_last["last"],
            monthly=_run(
                runner,
                monthly.order_by(["currency", "month", "channel"]),
                _MONTHLY,
                "monthly sales",
            ),
            rejected=_rejected(lake, runner),
        )


def _rejected(lake: Lake, runner: Engine) -> list[dict[str, Any]]:
    files = lake.files("quarantine", "")
    if not files:
        return []
    table = runner.read(files, base=lake.root / "quarantine", schema=QUARANTINE_SCHEMA)
    grouped = table.group_by(["reason", "declaration"]).aggregate(n=table.count())
    return _run(runner, grouped.order_by([ibis.desc("n"), "reason"]), _REJECTS, "rejected rows")


def _counts(runner: Engine, table: ir.Table, column: ir.Column, label: str) -> dict[str, int]:
    grouped = table.group_by(label=column).aggregate(n=table.count())
    return {str(r["label"]): int(r["n"]) for r in _run(runner, grouped, _COUNTS, label)}


def _read(lake: Lake, runner: Engine, layer: Layer, name: str) -> ir.Table:
    spec = dwd.table(name)
    return runner.read(
        lake.files(layer, name), base=lake.table_dir(layer, name), schema=spec.schema
    )


def _run(runner: Engine, expr: ir.Table, schema: pa.Schema, label: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = runner.execute(expr, schema=schema, label=label).to_pylist()
    return rows


def _money(minor: int) -> str:
    # Whole major units keep the month-by-channel table readable in an 80-column terminal.
    return f"{Decimal(minor).scaleb(-2):,.0f}"
