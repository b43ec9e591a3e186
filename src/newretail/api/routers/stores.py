"""A store's trading overview from the lake's DWS ``store_day``: store-scoped, so a store manager sees
only their own stores."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from newretail.api.deps import CurrentPrincipal, RuntimeDep
from newretail.api.models import (
    ChannelSalesPublic,
    DaySalesPublic,
    SalesPublic,
    StoreOverviewPublic,
)
from newretail.errors import NoData
from newretail.lake import connect_engine
from newretail.metrics import Period, chain_overview, latest_business_date
from newretail.security import Permission

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])

StoreId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@router.get("/{store_id}/overview")
def read_overview(
    store_id: StoreId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    last: Annotated[
        dt.date | None, Query(description="Last business date; the lake's newest if absent.")
    ] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> StoreOverviewPublic:
    """Paid sales and orders by currency, by day and by channel, and active members."""
    principal.require(Permission.STORES_READ)
    principal.require_store(store_id)
    until = last or latest_business_date(runtime.lake)
    if until is None:
        raise NoData("stores.no_data", "the lake has no store_day data yet; run `newretail build`")
    period = Period.ending(until, days=days)
    with connect_engine(runtime.settings.engine) as engine:
        overview = chain_overview(runtime.lake, engine, period=period, stores=frozenset({store_id}))
    return StoreOverviewPublic(
        store_id=store_id,
        first=period.first,
        last=period.last,
        totals=[SalesPublic.model_validate(s) for s in overview.totals],
        active_members=overview.active_members,
        trend=[DaySalesPublic.model_validate(s) for s in overview.trend],
        channels=[ChannelSalesPublic.model_validate(s) for s in overview.channels],
    )
