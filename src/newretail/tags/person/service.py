"""After-sales features: refunds, complaints and ratings, reached through the person's orders (or,
for a complaint, the complainant's own identity record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from newretail.tags.person import dimensions as dim
from newretail.tags.person.common import Aggregates, count_if, person_of, since, sum_if, up_to


def _order_persons(orders: ir.Table) -> ir.Table:
    return orders.select(
        o_source=orders.source, o_id=orders.order_id, o_person=orders.person_id
    ).distinct()


def _by_order(table: ir.Table, orders: ir.Table) -> ir.Table:
    owners = _order_persons(orders)
    joined = table.join(
        owners, [table.order_source == owners.o_source, table.order_id == owners.o_id]
    )
    return joined.drop("o_source", "o_id").rename(person_id="o_person")


def refund_features(tables: Mapping[str, ir.Table], orders: ir.Table, as_of: dt.date) -> ir.Table:
    r = _by_order(up_to(tables["refunds"], as_of), orders)
    year = since(r.business_date, as_of, 365)
    m: Aggregates = {
        "refunds_365d": count_if(year),
        "refund_amount_365d": sum_if(year, r.amount_minor),
        "last_refund_date": r.business_date.max(),
    }
    for reason in dim.REFUND_REASONS:
        m[f"refunds_{reason}_365d"] = count_if(year & (r.reason == reason))
    return r.group_by("person_id").aggregate(**m)


def complaint_features(
    tables: Mapping[str, ir.Table], links: ir.Table, orders: ir.Table, as_of: dt.date
) -> ir.Table:
    complaints = up_to(tables["complaints"], as_of)
    named = complaints.filter(complaints.identity_record_id.notnull())
    named = person_of(named, links, source="identity_source", record="identity_record_id")
    via_order = _by_order(complaints.filter(complaints.identity_record_id.isnull()), orders)
    c = named.select(*via_order.columns).union(via_order)
    year = since(c.business_date, as_of, 365)
    still_open = c.resolved_at.isnull() | (c.resolved_at.date() > ibis.literal(as_of))
    m: Aggregates = {
        "complaints_365d": count_if(year),
        "complaints_open": count_if(still_open),
        "last_complaint_date": c.business_date.max(),
    }
    for category in dim.COMPLAINT_CATEGORIES:
        m[f"complaints_{category}_365d"] = count_if(year & (c.category == category))
    return c.group_by("person_id").aggregate(**m)


def rating_features(tables: Mapping[str, ir.Table], orders: ir.Table, as_of: dt.date) -> ir.Table:
    r = _by_order(up_to(tables["ratings"], as_of), orders)
    year = since(r.business_date, as_of, 365)
    stars = r.stars.cast("int64")
    return r.group_by("person_id").aggregate(
        ratings_365d=count_if(year),
        stars_sum_365d=sum_if(year, stars),
        low_ratings_365d=count_if(year & (stars <= 2)),
        five_star_ratings_365d=count_if(year & (stars == 5)),
        last_rating_date=r.business_date.max(),
        last_rating_stars=stars.argmax(r.rated_at),
    )
