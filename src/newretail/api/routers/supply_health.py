"""Inventory health (``supply.read``; a store manager sees its stores only) and the supplier view
(``supply.supplier_read``; a supplier's user sees its own supplier only), read from the lake."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from newretail.api.deps import CurrentPrincipal, RuntimeDep
from newretail.api.supply_health_models import HealthPublic, SupplierPublic
from newretail.lake import connect_engine
from newretail.supply.scoped import health_for, supplier_view_for

router = APIRouter(prefix="/api/v1/supply", tags=["supply"])


@router.get("/health")
def read_health(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    first: Annotated[
        dt.date | None, Query(alias="from", description="First day; four weeks before `to`.")
    ] = None,
    last: Annotated[
        dt.date | None, Query(alias="to", description="Last day; the lake's newest stock day.")
    ] = None,
    group_by: Literal["store", "dc", "material", "week"] = "store",
    store: Annotated[
        list[Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] | None,
        Query(description="Only these stores (repeat for more); no DCs then."),
    ] = None,
) -> HealthPublic:
    """In-stock rate, days of inventory, sell-through, waste by reason and aging per group, for the
    chain and week by week."""
    with connect_engine(runtime.settings.engine) as engine:
        report = health_for(
            principal,
            runtime.lake,
            engine,
            first=first,
            last=last,
            group_by=group_by,
            stores=store or (),
        )
    return HealthPublic.of(report)


@router.get("/supplier")
def read_supplier(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    supplier_id: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Your own supplier if you are one."),
    ] = None,
    as_of: Annotated[
        dt.date | None, Query(description="Close of this day; the lake's newest stock day.")
    ] = None,
) -> SupplierPublic:
    """A supplier's materials: chain-wide demand forecast, DC stock and delivery timeliness."""
    view = supplier_view_for(
        principal,
        runtime.lake,
        engine=runtime.settings.engine,
        supplier_id=supplier_id,
        as_of=as_of,
    )
    return SupplierPublic.of(view)
