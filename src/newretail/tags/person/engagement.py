"""Engagement features: app and mini-program events, coupons issued, held and redeemed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from newretail.tags.person import dimensions as dim
from newretail.tags.person.common import (
    Aggregates,
    count_if,
    min_if,
    person_of,
    since,
    sum_if,
    up_to,
)

# Event names of the Segment-style funnel the app and mini-program send.
_FUNNEL = {
    "product_views": "Product Viewed",
    "cart_adds": "Product Added",
    "checkouts": "Checkout Started",
    "app_orders_completed": "Order Completed",
    "coupon_views": "Coupon Viewed",
}


def event_features(tables: Mapping[str, ir.Table], links: ir.Table, as_of: dt.date) -> ir.Table:
    """App and mini-program events of logged-in users (``user_id`` is the identity record id)."""
    events = up_to(tables["app_events"], as_of)
    events = events.filter(events.user_id.notnull())
    e = person_of(events, links, source="source", record="user_id")
    date = e.business_date
    m: Aggregates = {}
    for w in (7, 30, 90):
        m[f"app_events_{w}d"] = count_if(since(date, as_of, w))
    m["app_active_days_30d"] = date.nunique(where=since(date, as_of, 30))
    m["last_app_event_date"] = date.max()
    m["first_app_event_date"] = date.min()
    for name, event in _FUNNEL.items():
        m[f"{name}_30d"] = count_if((e.event == event) & since(date, as_of, 30))
    m["checkouts_90d"] = count_if((e.event == "Checkout Started") & since(date, as_of, 90))
    m["app_orders_completed_90d"] = count_if(
        (e.event == "Order Completed") & since(date, as_of, 90)
    )
    for source in ("app", "mini_program"):
        m[f"events_{source}_30d"] = count_if((e.source == source) & since(date, as_of, 30))
    m["referral_events_365d"] = count_if(
        e.event.isin(dim.REFERRAL_EVENTS) & since(date, as_of, 365)
    )
    return e.group_by("person_id").aggregate(**m)


def coupon_features(tables: Mapping[str, ir.Table], links: ir.Table, as_of: dt.date) -> ir.Table:
    """Coupons issued to the person's records, and their redemptions up to ``as_of``."""
    issued = up_to(tables["coupons_issued"], as_of)
    issued = person_of(issued, links, source="identity_source", record="identity_record_id")
    used = up_to(tables["coupon_redemptions"], as_of)
    used = used.select(
        used_coupon=used.coupon_id,
        used_date=used.business_date,
        used_discount=used.discount_minor,
    )
    c = issued.left_join(used, issued.coupon_id == used.used_coupon)
    redeemed = c.used_coupon.notnull()
    issued_on = c.business_date
    open_ = ~redeemed & (c.expires_at.date() > ibis.literal(as_of))
    m: Aggregates = {}
    for w in (30, 90, 365):
        m[f"coupons_issued_{w}d"] = count_if(since(issued_on, as_of, w))
        m[f"coupons_redeemed_{w}d"] = count_if(redeemed & since(c.used_date, as_of, w))
    m["coupons_issued_365d_redeemed"] = count_if(redeemed & since(issued_on, as_of, 365))
    m["coupons_unused"] = count_if(open_)
    m["next_coupon_expiry_date"] = min_if(open_, c.expires_at.date())
    m["last_coupon_redeemed_date"] = c.used_date.max()
    m["coupon_discount_365d"] = sum_if(redeemed & since(c.used_date, as_of, 365), c.used_discount)
    for kind in dim.COUPON_TYPES:
        m[f"coupons_redeemed_{kind}_365d"] = count_if(
            redeemed & (c.coupon_type == kind) & since(c.used_date, as_of, 365)
        )
    m["referral_rewards_365d"] = count_if(
        c.campaign_id.upper().contains(dim.REFERRAL_CAMPAIGN_MARKER) & since(issued_on, as_of, 365)
    )
    return c.group_by("person_id").aggregate(**m)
