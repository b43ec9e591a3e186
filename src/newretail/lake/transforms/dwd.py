"""ODS → DWD: drop re-deliveries, keep the latest version per natural key, drop POS copies of
platform orders (and their lines), and conform amounts to integer minor units beside a currency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from newretail.lake.plan import Input, Step, Transform
from newretail.model import CANONICAL
from newretail.model import dwd as dwd_model
from newretail.model.spec import TableSpec

PLATFORMS = ("meituan", "eleme")

# Which version of a row is the latest when one natural key arrives more than once. Tables not
# listed only receive exact re-deliveries; the remaining columns break ties so the choice is the
# same on every engine and for every chunking of dates.
_VERSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "identity_records": ("updated_at",),
    "memberships": ("updated_at",),
    # An order delivered again later has progressed further: completed beats made beats accepted.
    "orders": ("completed_at", "made_at", "accepted_at"),
    "complaints": ("resolved_at",),
}


def latest(table: ir.Table, *, key: Sequence[str], versions: Sequence[str] = ()) -> ir.Table:
    """One row per ``key``: the greatest ``versions`` (nulls lowest), ties broken by every column."""
    rest = [c for c in table.columns if c not in key and c not in versions]
    order = [ibis.desc(table[c], nulls_first=False) for c in versions]
    order += [ibis.asc(table[c], nulls_first=True) for c in rest]
    window = ibis.window(group_by=[table[c] for c in key], order_by=order)
    ranked = table.mutate(_version_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._version_rank == 0).drop("_version_rank")


def _dedup(spec: TableSpec, table: ir.Table) -> ir.Table:
    out = dwd_model.table(spec.name)
    # Dated tables deduplicate within a business date, so the result never depends on which dates
    # one query happens to cover.
    key = (*out.key, "business_date") if "business_date" in out.partition_by else out.key
    return latest(table, key=key, versions=_VERSION_COLUMNS.get(spec.name, ()))


def _orders(tables: Mapping[str, ir.Table]) -> ir.Table:
    orders = _dedup(_canonical("orders"), tables["ods"])
    is_copy = (
        (orders.source == "pos")
        & orders.channel.isin(PLATFORMS)
        & orders.platform_order_ref.notnull()
    )
    platform = orders.filter(orders.source.isin(PLATFORMS)).select(
        ref_source=orders.source, ref_id=orders.order_id, ref_date=orders.business_date
    )
    copies = orders.filter(is_copy)
    # A POS copy stands in for a platform order only until the platform's own record arrives.
    orphans = copies.anti_join(
        platform,
        [
            copies.channel == platform.ref_source,
            copies.platform_order_ref == platform.ref_id,
            copies.business_date == platform.ref_date,
        ],
    )
    return orders.filter(~is_copy).union(orphans)


def _order_lines(tables: Mapping[str, ir.Table]) -> ir.Table:
    lines = _dedup(_canonical("order_lines"), tables["ods"])
    orders = tables["orders"].select("source", "order_id", "business_date")
    return lines.semi_join(orders, ["source", "order_id", "business_date"])


def _generic(spec: TableSpec) -> Transform:
    def transform(tables: Mapping[str, ir.Table]) -> ir.Table:
        return _dedup(spec, tables["ods"])

    return transform


def _canonical(name: str) -> TableSpec:
    return next(spec for spec in CANONICAL if spec.name == name)


def _step(spec: TableSpec) -> Step:
    inputs: tuple[tuple[str, Input], ...] = (("ods", Input("ods", spec)),)
    special: dict[str, Transform] = {"orders": _orders}
    if spec.name == "order_lines":
        inputs = (*inputs, ("orders", Input("dwd", dwd_model.table("orders"))))
        return Step("dwd", dwd_model.table(spec.name), inputs, _order_lines)
    return Step("dwd", dwd_model.table(spec.name), inputs, special.get(spec.name, _generic(spec)))


# Orders come before their lines, which follow the orders that survived.
STEPS: tuple[Step, ...] = tuple(_step(spec) for spec in CANONICAL)
