"""Order features: one aggregation of a person's orders (with their baskets) by conditional sums.

Order measures count completed orders (``cancelled_*`` count cancelled ones). Money is in minor units
of the person's currency, the currency of their home store; orders paid in another currency count
as orders but add no money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from newretail.tags.person import dimensions as dim
from newretail.tags.person.common import (
    Aggregates,
    count_if,
    max_if,
    min_if,
    person_of,
    since,
    sum_if,
    up_to,
)

_ORDER_KEY = ["source", "order_id", "business_date"]
_NEW_PRODUCT_DAYS = 30  # an order of a new product within this many days of its launch is early


def person_orders(tables: Mapping[str, ir.Table], links: ir.Table, as_of: dt.date) -> ir.Table:
    """Orders (any status) placed on or before ``as_of`` under an identity record OneID linked."""
    orders = up_to(tables["orders"], as_of)
    orders = orders.filter(orders.identity_record_id.notnull())
    linked = person_of(orders, links, source="identity_source", record="identity_record_id")
    return linked.select(
        "person_id",
        *_ORDER_KEY,
        "store_id",
        "channel",
        "fulfilment",
        "status",
        "currency",
        "gross_minor",
        "discount_minor",
        "paid_minor",
        "coupon_id",
        "payment_method",
        "business_hour",
    )


def home_stores(orders: ir.Table, as_of: dt.date) -> tuple[ir.Table, ir.Table]:
    """Each buyer's home store and currency, and the count of stores they bought at.

    The home store is the store of most completed orders in 365 days, else of most orders ever;
    ties go to the store ordered at last, then the smaller store id.
    """
    done = orders.filter(orders.status == "completed")
    per_store = done.group_by(["person_id", "store_id", "currency"]).aggregate(
        n365=count_if(since(done.business_date, as_of, 365)),
        n=done.count(),
        last=done.business_date.max(),
    )
    order = [
        per_store.n365.desc(),
        per_store.n.desc(),
        per_store.last.desc(),
        per_store.store_id.asc(),
        per_store.currency.asc(),
    ]
    ranked = per_store.mutate(
        rank=ibis.row_number().over(ibis.window(group_by=per_store.person_id, order_by=order))
    )
    home = ranked.filter(ranked["rank"] == 0).select(
        "person_id",
        home_store_id=ranked.store_id,
        currency=ranked.currency,
        home_store_orders_365d=ranked.n365,
    )
    visited = per_store.group_by("person_id").aggregate(
        stores_visited_365d=count_if(per_store.n365 > 0),
        stores_visited_total=per_store.count(),
    )
    return home, visited


def baskets(tables: Mapping[str, ir.Table], as_of: dt.date) -> ir.Table:
    """Per order: units and net amount per category, units per product line, new products."""
    lines = up_to(tables["order_lines"], as_of)
    products = tables["products"]
    products = products.group_by("product_id").aggregate(
        category=products.category.max(),
        line=products.subcategory.max(),
        is_new=products.is_new.max(),
        launched_on=products.launched_on.min(),
    )
    joined = lines.left_join(products, lines.product_id == products.product_id)
    qty = joined.quantity.cast("int64")
    net = qty * joined.unit_price_minor - joined.discount_minor
    early = joined.is_new & (
        joined.business_date <= joined.launched_on + ibis.interval(days=_NEW_PRODUCT_DAYS)
    )
    measures: Aggregates = {
        "b_units": qty.sum(),
        "b_new": count_if(joined.is_new),
        "b_new_early": count_if(early),
    }
    for cat in dim.CATEGORIES:
        measures[f"b_units_{cat}"] = sum_if(joined.category == cat, qty)
        measures[f"b_net_{cat}"] = sum_if(joined.category == cat, net)
    for line in dim.LINES:
        measures[f"b_units_line_{line}"] = sum_if(joined.line == line, qty)
    return joined.group_by(_ORDER_KEY).aggregate(**measures)


def order_features(orders: ir.Table, basket: ir.Table, home: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per buyer: every order measure of the features table."""
    o = orders.left_join(basket, _ORDER_KEY).select(
        orders, *[c for c in basket.columns if c.startswith("b_")]
    )
    cur = home.select(cur_person=home.person_id, person_currency=home.currency)
    o = o.left_join(cur, o.person_id == cur.cur_person).drop("cur_person")
    done = o.status == "completed"
    money = done & (o.currency == o.person_currency)
    date = o.business_date

    def win(days: int) -> ir.BooleanValue:
        return since(date, as_of, days)

    m: Aggregates = {}
    for w in dim.WINDOWS:
        m[f"orders_{w}d"] = count_if(done & win(w))
        m[f"spend_{w}d"] = sum_if(money & win(w), o.paid_minor)
    for w in (30, 90, 365):
        m[f"items_{w}d"] = sum_if(done & win(w), o.b_units)
        m[f"active_days_{w}d"] = date.nunique(where=done & win(w))
    previous = win(180) & ~win(90)
    m["orders_prev_90d"] = count_if(done & previous)
    m["spend_prev_90d"] = sum_if(money & previous, o.paid_minor)
    for w in (90, 365):
        m[f"cancelled_orders_{w}d"] = count_if((o.status == "cancelled") & win(w))
        m[f"coupon_orders_{w}d"] = count_if(done & win(w) & o.coupon_id.notnull())
    m["orders_total"] = count_if(done)
    m["spend_total"] = sum_if(money, o.paid_minor)
    m["first_order_date"] = min_if(done, date)
    m["last_order_date"] = max_if(done, date)
    m["last_order_before_30d"] = max_if(done & ~win(30), date)
    m["first_order_in_30d"] = min_if(done & win(30), date)
    m["max_ticket_365d"] = max_if(money & win(365), o.paid_minor)
    m["gross_365d"] = sum_if(money & win(365), o.gross_minor)
    m["discount_365d"] = sum_if(money & win(365), o.discount_minor)
    for ch in dim.CHANNELS:
        on = done & (o.channel == ch)
        m[f"orders_channel_{ch}_90d"] = count_if(on & win(90))
        m[f"orders_channel_{ch}_365d"] = count_if(on & win(365))
        m[f"spend_channel_{ch}_365d"] = sum_if(money & (o.channel == ch) & win(365), o.paid_minor)
        m[f"last_order_channel_{ch}"] = max_if(on, date)
    for f in dim.FULFILMENTS:
        m[f"orders_fulfilment_{f}_365d"] = count_if(done & (o.fulfilment == f) & win(365))
    for p in dim.PAYMENTS:
        m[f"orders_payment_{p}_365d"] = count_if(done & (o.payment_method == p) & win(365))
    m["last_stored_value_date"] = max_if(done & (o.payment_method == "stored_value"), date)
    hour = o.business_hour
    parts = {name: (hour >= lo) & (hour < hi) for name, (lo, hi) in dim.DAYPARTS.items()}
    parts[dim.EVENING] = ~ibis.or_(*parts.values())
    for name, during in parts.items():
        for w in (90, 365):
            m[f"orders_daypart_{name}_{w}d"] = count_if(done & during & win(w))
    weekday = date.day_of_week.index()
    for i, day in enumerate(dim.WEEKDAYS):
        m[f"orders_weekday_{day}_365d"] = count_if(done & (weekday == i) & win(365))
    m.update(_category_measures(o, done, money, as_of))
    out = o.group_by("person_id").aggregate(**m)
    # The largest and total units over product lines, for the favourite line's definition.
    units = [out[f"units_line_{line}_365d"].fill_null(0) for line in dim.LINES]
    return out.mutate(
        top_line_units_365d=ibis.greatest(*units), line_units_365d=sum(units[1:], units[0])
    )


def _category_measures(
    o: ir.Table, done: ir.BooleanValue, money: ir.BooleanValue, as_of: dt.date
) -> Aggregates:
    date = o.business_date
    m: Aggregates = {}
    for cat in dim.CATEGORIES:
        has = done & (o[f"b_units_{cat}"] > 0)
        for w in dim.CATEGORY_WINDOWS:
            m[f"orders_{cat}_{w}d"] = count_if(has & since(date, as_of, w))
        m[f"units_{cat}_365d"] = sum_if(done & since(date, as_of, 365), o[f"b_units_{cat}"])
        m[f"spend_{cat}_365d"] = sum_if(money & since(date, as_of, 365), o[f"b_net_{cat}"])
        m[f"first_bought_category_{cat}"] = min_if(has, date)
        m[f"last_bought_category_{cat}"] = max_if(has, date)
    for line in dim.LINES:
        has = done & (o[f"b_units_line_{line}"] > 0)
        for w in (90, 365):
            m[f"orders_line_{line}_{w}d"] = count_if(has & since(date, as_of, w))
        m[f"units_line_{line}_365d"] = sum_if(
            done & since(date, as_of, 365), o[f"b_units_line_{line}"]
        )
        m[f"last_bought_line_{line}"] = max_if(has, date)
    early = done & (o.b_new_early > 0)
    m["new_product_early_orders_90d"] = count_if(early & since(date, as_of, 90))
    m["new_product_early_orders_365d"] = count_if(early & since(date, as_of, 365))
    m["new_product_orders_365d"] = count_if(done & (o.b_new > 0) & since(date, as_of, 365))
    m["last_new_product_date"] = max_if(done & (o.b_new > 0), date)
    return m
