"""The catalogue as checkout reads it on every order, stores and the items on sale with their prices,
kept in this process for a few seconds (:mod:`newretail.oltp.read_cache`).

How stale: this process's own :func:`~newretail.trade.catalogue.sync_catalogue` shows at once; a sync
by another process (the CLI, another API worker) shows at most
:data:`~newretail.oltp.read_cache.TTL` later, so for that long a price change may not apply yet, a
store just closed may still take orders, and an item just put on sale may still be refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection

from newretail.oltp.read_cache import ReadCache
from newretail.trade.catalogue import (
    CATALOGUE_TABLES,
    CatalogueItem,
    StoreInfo,
    find_store,
    store_info,
)
from newretail.trade.catalogue import items_for as read_items

_STORES: ReadCache[str, StoreInfo] = ReadCache(CATALOGUE_TABLES)
_ITEMS: ReadCache[tuple[str, str], CatalogueItem] = ReadCache(CATALOGUE_TABLES)


def cached_store(conn: Connection, store_id: str, *, now: dt.datetime) -> StoreInfo:
    """:func:`~newretail.trade.catalogue.store_info`, from the cache."""
    found = _STORES.get(conn, store_id, now=now, load=find_store)
    # An unknown store is asked again, so that its refusal is always current.
    return found if found is not None else store_info(conn, store_id)


def cached_items(
    conn: Connection, product_ids: Iterable[str], *, currency: str, now: dt.datetime
) -> dict[str, CatalogueItem]:
    """:func:`~newretail.trade.catalogue.items_for`, from the cache."""
    found = _ITEMS.get_many(
        conn, [(currency, product_id) for product_id in product_ids], now=now, load=_load_items
    )
    return {product_id: item for (_, product_id), item in found.items()}


def _load_items(
    conn: Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], CatalogueItem]:
    by_currency: dict[str, list[str]] = {}
    for currency, product_id in keys:
        by_currency.setdefault(currency, []).append(product_id)
    return {
        (currency, product_id): item
        for currency, product_ids in by_currency.items()
        for product_id, item in read_items(conn, product_ids, currency=currency).items()
    }
