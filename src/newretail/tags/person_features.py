"""The person feature table: one row per person with every raw measure the tag definitions use.

It is pure Ibis, so DuckDB and Spark compute it alike. Facts after ``as_of`` are ignored, so tags can
be recomputed for any past date; a window of N days is ``business_date`` in (as_of - N, as_of].
Facts reach persons through OneID's ``person_links``; every person in ``dwd/persons`` gets a row,
with 0 in counts and sums and null in dates where they have no facts.

>>> features = person_features(tables, as_of=dt.date(2026, 7, 19))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis.expr.types as ir

from newretail.lake.storage import Layer
from newretail.model import dwd, oneid
from newretail.model.spec import TableSpec
from newretail.tags.person import churn, engagement, orders, profile, service
from newretail.tags.person.common import attach

_DWD = (
    "orders",
    "order_lines",
    "products",
    "memberships",
    "coupons_issued",
    "coupon_redemptions",
    "app_events",
    "refunds",
    "complaints",
    "ratings",
    "stores",
)
PERSON_INPUTS: Mapping[str, tuple[Layer, TableSpec]] = {
    **{name: ("dwd", dwd.table(name)) for name in _DWD},
    "person_links": ("dwd", oneid.PERSON_LINKS),
    "persons": ("dwd", oneid.PERSONS),
}

# Model outputs among the features: a ``model`` tag's definition names one of them.
MODELS: tuple[str, ...] = (churn.MODEL,)

# Integer features that stay null for a person without the facts (a maximum, a last value).
_NULLABLE = ("max_ticket_365d", "last_rating_stars")


def person_features(tables: Mapping[str, ir.Table], *, as_of: dt.date) -> ir.Table:
    """One row per person of ``tables["persons"]``: profile, orders, baskets, engagement, service
    and model columns as of the end of ``as_of``."""
    links = tables["person_links"]
    placed = orders.person_orders(tables, links, as_of)
    home, visited = orders.home_stores(placed, as_of)
    stores = tables["stores"].select(
        home_store=tables["stores"].store_id, home_city=tables["stores"].city
    )
    home = home.left_join(stores, home.home_store_id == stores.home_store).drop("home_store")
    basket = orders.baskets(tables, as_of)
    base = profile.profile_columns(tables["persons"], as_of)
    base = attach(base, home, zero=False)
    parts = [
        visited,
        orders.order_features(placed, basket, home, as_of),
        engagement.event_features(tables, links, as_of),
        engagement.coupon_features(tables, links, as_of),
        service.refund_features(tables, placed, as_of),
        service.complaint_features(tables, links, placed, as_of),
        service.rating_features(tables, placed, as_of),
        profile.membership_features(tables, links, as_of),
    ]
    for part in parts:
        base = attach(base, part, nullable=_NULLABLE)
    return base.mutate(**{churn.MODEL: churn.churn_risk(base)})
