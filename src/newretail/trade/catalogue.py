"""The checkout catalogue: products, list prices and stores copied from the lake's DWD tables into the
OLTP database, so pricing an order reads a few indexed rows instead of Parquet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import ColumnElement, Connection, Table, delete, select, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from newretail.errors import NoData, NotFound
from newretail.lake import Lake
from newretail.oltp.read_cache import invalidate
from newretail.oltp.tables import catalogue_prices, catalogue_products, catalogue_stores

# The menu's drink categories (the generator's coffee and tea): a drink comes in M and L, and L costs
# a fixed upcharge per currency; food and retail goods have no sizes.
DRINK_CATEGORIES = frozenset({"coffee", "tea"})
LARGE_UPCHARGE_MINOR: Mapping[str, int] = {"CNY": 300, "SGD": 50}

# The tables a sync writes (and :mod:`newretail.trade.catalogue_cache` caches).
CATALOGUE_TABLES = (catalogue_products.name, catalogue_prices.name, catalogue_stores.name)
_INSERTS: Mapping[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    product_id: str
    name: str
    name_en: str | None
    category: str
    subcategory: str | None
    sizes: dict[str, int]  # size -> upcharge in minor units; empty when the item has no sizes
    price_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class StoreInfo:
    store_id: str
    name: str
    city: str
    currency: str
    timezone: str
    open: bool


@dataclass(frozen=True, slots=True)
class CatalogueSync:
    """What a sync found in the lake and how many catalogue rows it inserted, changed or removed."""

    as_of: dt.date
    products: int
    on_sale: int
    prices: int
    stores: int
    open_stores: int
    changed: int


def sync_catalogue(
    conn: Connection, lake: Lake, *, now: dt.datetime, as_of: dt.date | None = None
) -> CatalogueSync:
    """Make the catalogue tables match the lake as of ``as_of`` (default: ``now``'s UTC date).

    A product is on sale from its launch to its retirement day; its price in each currency is the
    latest list price valid on ``as_of``; a store is open from its opening day until it closes.
    Products and stores the lake no longer has are kept but taken off sale or closed; prices not
    valid any more are removed. Running it again with the same lake changes nothing.
    """
    day = as_of if as_of is not None else now.astimezone(dt.UTC).date()
    products, prices, stores = _read_lake(lake, day)
    invalidate(conn, *CATALOGUE_TABLES)
    changed = _sync_rows(conn, catalogue_products, products, absent={"on_sale": False})
    changed += _sync_rows(conn, catalogue_prices, prices, absent=None)
    changed += _sync_rows(conn, catalogue_stores, stores, absent={"open": False})
    return CatalogueSync(
        as_of=day,
        products=len(products),
        on_sale=sum(1 for row in products if row["on_sale"]),
        prices=len(prices),
        stores=len(stores),
        open_stores=sum(1 for row in stores if row["open"]),
        changed=changed,
    )


def items_for(
    conn: Connection, product_ids: Iterable[str], *, currency: str
) -> dict[str, CatalogueItem]:
    """The products among ``product_ids`` on sale with a price in ``currency``, by product id; one
    missing from the answer is unknown, off sale or not sold in that currency."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return {}
    return _on_sale(conn, currency, catalogue_products.c.product_id.in_(wanted))


def menu(conn: Connection, store_id: str) -> list[CatalogueItem]:
    """Everything the store sells now, in its currency, by category and product id."""
    store = store_info(conn, store_id)
    items = _on_sale(conn, store.currency, true()).values()
    return sorted(items, key=lambda item: (item.category, item.product_id))


def open_stores(conn: Connection) -> list[StoreInfo]:
    """The stores that trade, by id."""
    s = catalogue_stores
    rows = conn.execute(select(s).where(s.c.open).order_by(s.c.store_id)).mappings()
    return [StoreInfo(**row) for row in rows]


def _on_sale(
    conn: Connection, currency: str, condition: ColumnElement[bool]
) -> dict[str, CatalogueItem]:
    p, c = catalogue_products, catalogue_prices
    rows = conn.execute(
        select(p, c.c.price_minor)
        .join_from(p, c, p.c.product_id == c.c.product_id)
        .where(condition, c.c.currency == currency, p.c.on_sale)
    ).mappings()
    return {
        row["product_id"]: CatalogueItem(
            product_id=row["product_id"],
            name=row["name"],
            name_en=row["name_en"],
            category=row["category"],
            subcategory=row["subcategory"],
            sizes=dict(row["sizes"].get(currency, {})),
            price_minor=row["price_minor"],
            currency=currency,
        )
        for row in rows
    }


def store_info(conn: Connection, store_id: str) -> StoreInfo:
    """The store's trading facts; ``NotFound`` (store.unknown) when the catalogue has no such store."""
    found = find_store(conn, store_id)
    if found is None:
        raise NotFound("store.unknown", f"no store {store_id} in the catalogue", field="store_id")
    return found


def find_store(conn: Connection, store_id: str) -> StoreInfo | None:
    """The store's trading facts, or None when the catalogue has no such store."""
    s = catalogue_stores
    row = conn.execute(select(s).where(s.c.store_id == store_id)).mappings().first()
    return None if row is None else StoreInfo(**row)


def sizes_of(category: str) -> dict[str, dict[str, int]]:
    """The sizes a product of ``category`` comes in, per currency, as stored in the catalogue.

    >>> sizes_of("coffee")["SGD"], sizes_of("food")
    ({'M': 0, 'L': 50}, {})
    """
    if category not in DRINK_CATEGORIES:
        return {}
    return {
        currency: {"M": 0, "L": upcharge} for currency, upcharge in LARGE_UPCHARGE_MINOR.items()
    }


_PRODUCTS = """
SELECT product_id, name, name_en, category, subcategory,
       launched_on <= $as_of AND (retired_on IS NULL OR $as_of <= retired_on) AS on_sale
FROM products
QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY source) = 1
ORDER BY product_id
"""
_PRICES = """
SELECT product_id, currency, price_minor
FROM product_prices
WHERE valid_from <= $as_of AND product_id IN (SELECT product_id FROM products)
QUALIFY row_number() OVER (
    PARTITION BY product_id, currency ORDER BY valid_from DESC, source) = 1
ORDER BY product_id, currency
"""
_STORES = """
SELECT store_id, name, city, currency, timezone,
       opened_on <= $as_of AND (closed_on IS NULL OR $as_of < closed_on) AS open
FROM stores
QUALIFY row_number() OVER (PARTITION BY store_id ORDER BY source) = 1
ORDER BY store_id
"""


def _read_lake(
    lake: Lake, as_of: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    tables = ("products", "product_prices", "stores")
    files = {table: [str(f) for f in lake.files("dwd", table)] for table in tables}
    missing = [table for table in tables if not files[table]]
    if missing:
        raise NoData(
            "trade.no_catalogue",
            f"the lake has no {', '.join(missing)} yet: run `newretail ingest` and `newretail build`",
        )
    db = duckdb.connect()
    try:
        for table in tables:
            db.sql(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files[table]}, union_by_name = true)"
            )

        def rows(sql: str) -> list[dict[str, Any]]:
            result = db.execute(sql, {"as_of": as_of})
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

        products = [{**row, "sizes": sizes_of(row["category"])} for row in rows(_PRODUCTS)]
        return products, rows(_PRICES), rows(_STORES)
    finally:
        db.close()


def _sync_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    absent: Mapping[str, object] | None,
) -> int:
    """Make ``table`` hold ``rows``: upsert the new and changed ones, and give rows missing from them
    the ``absent`` values (or delete them when it is None); the number of rows written."""
    key = [column.name for column in table.primary_key.columns]
    existing = {
        tuple(row[k] for k in key): dict(row) for row in conn.execute(select(table)).mappings()
    }
    writes = [row for row in rows if existing.pop(tuple(row[k] for k in key), None) != row]
    if writes:
        insert = _INSERTS[conn.dialect.name](table)
        # ON CONFLICT, not a plain INSERT: a sync racing this one may have added the row meanwhile.
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=key,
                set_={c.name: insert.excluded[c.name] for c in table.columns if c.name not in key},
            ),
            writes,
        )
    gone = [
        k
        for k, row in existing.items()
        if absent is None or any(row[c] != v for c, v in absent.items())
    ]
    if gone:
        where = tuple_(*(table.c[k] for k in key)).in_(gone)
        if absent is None:
            conn.execute(delete(table).where(where))
        else:
            conn.execute(update(table).where(where).values(dict(absent)))
    return len(writes) + len(gone)
