"""The checkout catalogue: the stores that trade and each store's menu with prices in its currency,
as tills and apps show them (``orders.place``, or ``orders.read`` for staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from newretail.api.deps import CurrentPrincipal, DbConn
from newretail.api.trade_models import MenuItemPublic, MenuPublic, StorePublic, StoresPublic
from newretail.errors import Forbidden
from newretail.security import Permission, Principal
from newretail.trade.catalogue import menu, open_stores, store_info

router = APIRouter(prefix="/api/v1/catalogue", tags=["orders"])

StoreId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


@router.get("/stores")
def read_stores(conn: DbConn, principal: CurrentPrincipal) -> StoresPublic:
    """The stores that trade, with their currency and time zone; a store manager sees theirs."""
    _require_catalogue(principal)
    scope = principal.store_scope
    stores = [s for s in open_stores(conn) if scope is None or s.store_id in scope]
    return StoresPublic(data=[StorePublic.model_validate(s) for s in stores], count=len(stores))


@router.get("/stores/{store_id}/menu")
def read_menu(store_id: StoreId, conn: DbConn, principal: CurrentPrincipal) -> MenuPublic:
    """What the store sells now: each product's list price in the store's currency and the
    upcharge of each size."""
    _require_catalogue(principal)
    principal.require_store(store_id)
    store = store_info(conn, store_id)
    items = menu(conn, store_id)
    return MenuPublic(
        store=StorePublic.model_validate(store),
        data=[MenuItemPublic.model_validate(item) for item in items],
        count=len(items),
    )


def _require_catalogue(principal: Principal) -> None:
    if not (principal.can(Permission.ORDERS_PLACE) or principal.can(Permission.ORDERS_READ)):
        raise Forbidden(
            "auth.permission_denied", f"role {principal.role} may not read the checkout catalogue"
        )
