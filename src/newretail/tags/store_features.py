"""Store features: one row per store with the raw sums the store tag definitions divide and compare.

Every measure is a plain count or sum over a window of business dates ``(as_of - N, as_of]``
(``_7d``, ``_28d``, ``_90d``; ``_prev_28d`` is the 28 days before the last 28), so a definition
states its own ratio, rounding and threshold in SQL. Facts dated after ``as_of`` are ignored.

>>> import datetime as dt  # doctest: +SKIP
>>> features = store_features(tables, as_of=dt.date(2026, 2, 28))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

import ibis
import ibis.expr.types as ir

from newretail.lake.storage import Layer
from newretail.model import dwd, dws
from newretail.model.spec import TableSpec

STORE_INPUTS: Mapping[str, tuple[Layer, TableSpec]] = MappingProxyType(
    {
        "stores": ("dwd", dwd.table("stores")),
        "products": ("dwd", dwd.table("products")),
        "store_day": ("dws", dws.STORE_DAY),
        "store_hour": ("dws", dws.STORE_HOUR),
        "store_product_day": ("dws", dws.STORE_PRODUCT_DAY),
    }
)

_STORE_COLUMNS = (
    "store_id",
    "name",
    "city",
    "country",
    "timezone",
    "currency",
    "format",
    "floor_area_m2",
    "seats",
    "opened_on",
    "closed_on",
    "warehouse_id",
)
# store_day columns summed over the last 28 days, as <column>_28d.
_DAY_SUMS_28 = (
    "orders",
    "completed_orders",
    "cancelled_orders",
    "gross_minor",
    "discount_minor",
    "paid_minor",
    "items",
    "member_orders",
    *(f"orders_{family}" for family in dws.CHANNEL_FAMILIES),
    "delivery_orders",
    "on_time_deliveries",
    "late_deliveries",
    "make_seconds_sum",
    "made_orders",
    "refunds",
    "refund_minor",
    "complaints",
    "ratings",
    "stars_sum",
    "visitors",
    "coupon_redemptions",
    "coupon_discount_minor",
)
# Local hours of each daypart, [start, end): the doors open at 07:00 and close at 21:00.
DAYPARTS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"morning": (0, 11), "afternoon": (11, 17), "evening": (17, 24)}
)
NEW_PRODUCT_DAYS = 90  # a product launched in the 90 days up to as_of is new
_LONGEST = 90


def store_features(tables: Mapping[str, ir.Table], *, as_of: dt.date) -> ir.Table:
    """One row per store in ``tables["stores"]``; the inputs are named as in :data:`STORE_INPUTS`.

    Sums are 0 for a store without facts in the window; ``sales_tier_28d``, ``peak_hour_28d`` and
    ``last_order_date`` are null for a store that sold nothing in it.
    """
    stores = tables["stores"]
    base = stores.select(
        *_STORE_COLUMNS,
        as_of=ibis.literal(as_of, type="date"),
        age_days=ibis.literal(as_of, type="date").delta(stores.opened_on, unit="day"),
    )
    parts = [
        _day_sums(tables["store_day"], as_of),
        _dayparts(tables["store_hour"], as_of),
        _peak_hour(tables["store_hour"], as_of),
        _product_sums(tables["store_product_day"], tables["products"], as_of),
    ]
    joined = base
    for part in parts:
        joined = joined.left_join(part, "store_id").select(
            joined, *(c for c in part.columns if c != "store_id")
        )
    nullable = {"peak_hour_28d", "last_order_date"}
    joined = joined.mutate(
        **{
            c: joined[c].fill_null(0)
            for part in parts
            for c in part.columns
            if c != "store_id" and c not in nullable
        }
    )
    return _with_sales_tier(joined).order_by("store_id")


def _window(date: ir.DateValue, as_of: dt.date, days: int, *, skip: int = 0) -> ir.BooleanValue:
    """Whether ``date`` lies in ``(as_of - skip - days, as_of - skip]``."""
    high = as_of - dt.timedelta(days=skip)
    low = high - dt.timedelta(days=days)
    return (date > ibis.literal(low, type="date")) & (date <= ibis.literal(high, type="date"))


def _recent(table: ir.Table, as_of: dt.date, days: int) -> ir.Table:
    return table.filter(_window(table.business_date, as_of, days))


def _sum_if(condition: ir.BooleanValue, value: ir.NumericValue) -> ir.IntegerValue:
    return condition.ifelse(value, 0).cast("int64").sum()


def _day_sums(day: ir.Table, as_of: dt.date) -> ir.Table:
    day = _recent(day, as_of, _LONGEST)
    in_7, in_28 = _window(day.business_date, as_of, 7), _window(day.business_date, as_of, 28)
    in_prev = _window(day.business_date, as_of, 28, skip=28)
    done = day.completed_orders > 0
    weekend = day.business_date.day_of_week.index() >= 5  # Saturday and Sunday
    sums: dict[str, ir.Value] = {f"{c}_28d": _sum_if(in_28, day[c]) for c in _DAY_SUMS_28}
    sums |= {
        "completed_orders_7d": _sum_if(in_7, day.completed_orders),
        "completed_orders_90d": day.completed_orders.cast("int64").sum(),
        "paid_minor_7d": _sum_if(in_7, day.paid_minor),
        "paid_minor_90d": day.paid_minor.cast("int64").sum(),
        "paid_minor_prev_28d": _sum_if(in_prev, day.paid_minor),
        "completed_orders_prev_28d": _sum_if(in_prev, day.completed_orders),
        "weekend_orders_28d": _sum_if(in_28 & weekend, day.completed_orders),
        "weekend_paid_minor_28d": _sum_if(in_28 & weekend, day.paid_minor),
        "trading_days_28d": _sum_if(in_28 & done, ibis.literal(1)),
        "last_order_date": done.ifelse(day.business_date, ibis.null("date")).max(),
    }
    return day.group_by("store_id").aggregate(**sums)


def _dayparts(hour: ir.Table, as_of: dt.date) -> ir.Table:
    hour = _recent(hour, as_of, 28)
    h = hour.business_hour.cast("int32")
    sums = {
        f"{part}_orders_28d": _sum_if((h >= start) & (h < end), hour.completed_orders)
        for part, (start, end) in DAYPARTS.items()
    }
    return hour.group_by("store_id").aggregate(**sums)


def _peak_hour(hour: ir.Table, as_of: dt.date) -> ir.Table:
    """The local hour with the most completed orders in 28 days (the earlier hour on a tie)."""
    hour = _recent(hour, as_of, 28)
    per_hour = hour.group_by(["store_id", "business_hour"]).aggregate(
        hour_orders=hour.completed_orders.cast("int64").sum()
    )
    per_hour = per_hour.filter(per_hour.hour_orders > 0)
    rank = ibis.row_number().over(
        group_by=per_hour.store_id,
        order_by=[ibis.desc(per_hour.hour_orders), per_hour.business_hour],
    )
    ranked = per_hour.mutate(rank=rank)
    return ranked.filter(ranked["rank"] == 0).select(
        "store_id", peak_hour_28d=ranked.business_hour.cast("int64")
    )


def _product_sums(sales: ir.Table, products: ir.Table, as_of: dt.date) -> ir.Table:
    sales = _recent(sales, as_of, 28)
    new = products.filter(
        _window(products.launched_on, as_of, NEW_PRODUCT_DAYS) & products.product_id.notnull()
    ).select(new_product_id="product_id")
    new = new.distinct()
    marked = sales.left_join(new, sales.product_id == new.new_product_id).select(
        sales.store_id, sales.product_id, sales.units, is_new=new.new_product_id.notnull()
    )
    return marked.group_by("store_id").aggregate(
        units_28d=marked.units.cast("int64").sum(),
        new_product_units_28d=_sum_if(marked.is_new, marked.units),
        products_sold_28d=marked.product_id.nunique(where=marked.units > 0).cast("int64"),
    )


def _with_sales_tier(features: ir.Table) -> ir.Table:
    """``sales_tier_28d``: the quintile (1 lowest .. 5 highest) of 28-day paid sales among the
    stores trading in the same currency that sold anything; of equal sales, the lower store id ranks
    lower."""
    selling = features.filter(features.paid_minor_28d > 0)
    tier = ibis.ntile(5).over(
        group_by=selling.currency, order_by=[selling.paid_minor_28d, selling.store_id]
    )
    tiers = selling.select(tier_store_id=selling.store_id, sales_tier_28d=(tier + 1).cast("int64"))
    return features.left_join(tiers, features.store_id == tiers.tier_store_id).select(
        features, tiers.sales_tier_28d
    )
