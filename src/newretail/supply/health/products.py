"""Product sell-through (动销率): of the products on a store's menu in a window, the share that sold
at least one unit there (DWS ``store_product_day``; menu life from DWD ``products``, store life from
DWD ``stores``)."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

Window = tuple[str, dt.date, dt.date]


def product_figures(
    sales: ir.Table,
    products: ir.Table,
    stores: ir.Table,
    *,
    windows: list[Window],
    per_store: bool,
    scope: frozenset[str] | None,
) -> ir.Table:
    """``products_listed`` and ``products_sold`` per store (``per_store``) or per window.

    A store × product pair is listed in a window when the store was open and the product on the
    menu on at least one of its days; it sold when the store sold a unit of it in the window.
    """
    frames = ibis.memtable(
        pa.table(
            {
                "window": pa.array([w[0] for w in windows], pa.string()),
                "w_first": pa.array([w[1] for w in windows], pa.date32()),
                "w_last": pa.array([w[2] for w in windows], pa.date32()),
            }
        )
    )
    if scope is not None:
        stores = stores.filter(stores.store_id.isin(sorted(scope)))
        sales = sales.filter(sales.store_id.isin(sorted(scope)))
    listed = (
        stores.select("store_id", "opened_on", "closed_on")
        .cross_join(products.select("product_id", "launched_on", "retired_on"))
        .cross_join(frames)
    )
    listed = listed.filter(
        (listed.opened_on <= listed.w_last)
        & (listed.closed_on.isnull() | (listed.closed_on >= listed.w_first))
        & (listed.launched_on <= listed.w_last)
        & (listed.retired_on.isnull() | (listed.retired_on >= listed.w_first))
    ).select("window", "store_id", "product_id")
    sold_rows = sales.filter(sales.units > 0)
    matched = sold_rows.join(
        frames,
        [
            sold_rows.business_date >= frames.w_first,
            sold_rows.business_date <= frames.w_last,
        ],
    )
    sold = (
        matched.select("window", "store_id", "product_id")
        .distinct()
        .mutate(sold=ibis.literal(1, type="int64"))
    )
    pairs = listed.left_join(sold, ["window", "store_id", "product_id"])
    pairs = pairs.select(
        key=pairs.store_id if per_store else pairs.window, sold=pairs.sold.fill_null(0)
    )
    return pairs.group_by("key").aggregate(
        products_listed=pairs.count().cast("int64"),
        products_sold=pairs.sold.sum().cast("int64"),
    )
