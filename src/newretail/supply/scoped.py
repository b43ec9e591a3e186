"""Inventory health and the supplier view as a principal may see them: the permission, the store
scope (a store manager sees its stores, never a DC) and the supplier scope (a supplier's user sees
its own supplier only) are applied before the lake is read. The API and the console both call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from newretail.config import Engine as EngineName
from newretail.errors import Forbidden, InvalidInput, NoData
from newretail.lake.engines import Engine
from newretail.lake.storage import Lake
from newretail.model import dws
from newretail.security import Permission, Principal
from newretail.supply.health import HealthReport, inventory_health
from newretail.supply.supplier import SupplierView, supplier_view

DEFAULT_DAYS = 28


def latest_stock_date(lake: Lake) -> dt.date | None:
    """The newest business date with stock in the lake (DWS ``store_material_day``), if any."""
    name = dws.STORE_MATERIAL_DAY.name
    dates = [p["business_date"] for p in lake.partitions("dws", name) if "business_date" in p]
    return dt.date.fromisoformat(max(dates)) if dates else None


def default_period(
    lake: Lake, first: dt.date | None, last: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The period asked for, filled in: ``last`` defaults to the newest stock day, ``first`` to
    four weeks before it."""
    if last is None:
        last = latest_stock_date(lake)
        if last is None:
            raise NoData("supply.no_stock_data", "the lake has no stock yet: ingest and build")
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    return first, last


def health_for(
    principal: Principal,
    lake: Lake,
    engine: Engine,
    *,
    first: dt.date | None,
    last: dt.date | None,
    group_by: str,
    stores: Collection[str] = (),
) -> HealthReport:
    """Inventory health for ``principal`` (``supply.read``): a store manager's report covers its
    stores (those of ``stores`` it asks for, else all of them) and refuses the DC grouping."""
    principal.require(Permission.SUPPLY_READ)
    scope = principal.store_scope
    chosen = frozenset(stores) or None
    if scope is not None:
        if group_by == "dc":
            raise Forbidden("supply.dc_denied", "DCs are outside your store scope")
        for store in sorted(chosen or ()):
            principal.require_store(store)
        chosen = chosen or scope
    first, last = default_period(lake, first, last)
    return inventory_health(lake, engine, first=first, last=last, group_by=group_by, stores=chosen)


def supplier_view_for(
    principal: Principal,
    lake: Lake,
    *,
    engine: EngineName,
    supplier_id: str | None,
    as_of: dt.date | None,
) -> SupplierView:
    """The supplier view for ``principal`` (``supply.supplier_read``): a supplier's user sees its
    own supplier (``supplier_id`` may be left out); anyone else names the supplier."""
    principal.require(Permission.SUPPLY_SUPPLIER_READ)
    chosen = supplier_id or principal.supplier_scope
    if chosen is None:
        raise InvalidInput("supply.supplier_required", "name a supplier", field="supplier_id")
    principal.require_supplier(chosen)
    day = as_of or latest_stock_date(lake)
    if day is None:
        raise NoData("supply.no_stock_data", "the lake has no stock yet: ingest and build")
    return supplier_view(lake, engine=engine, supplier_id=chosen, as_of=day)
