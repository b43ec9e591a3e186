"""The customer service view's models: one person's memberships with balances, coupons, orders with
their refunds, complaints and ratings, each order and coupon saying what an agent may do with it.
A section the caller's role may not read is null."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from newretail.api.coupon_models import CouponPublic
from newretail.api.loyalty_models import MembershipPublic
from newretail.api.models import Public
from newretail.api.trade_models import OrderSummaryPublic, RefundPublic


class ServiceCouponPublic(CouponPublic):
    replaced_by: str | None = Field(description="The replacement a re-issue gave, if any.")
    reissuable: bool = Field(
        description="POST /coupons/{code}/reissue would give a replacement now, and the caller "
        "may ask for it (an unused or expired coupon of a running template with budget left)."
    )


class ServiceOrderPublic(OrderSummaryPublic):
    refunds: list[RefundPublic]
    refundable: bool = Field(
        description="Units are left to refund and the caller may refund them "
        "(POST /orders/{id}/refunds)."
    )


class ComplaintPublic(Public):
    source: str
    complaint_id: str
    order_source: str | None
    order_id: str | None
    store_id: str
    category: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


class RatingPublic(Public):
    source: str
    rating_id: str
    order_source: str
    order_id: str
    store_id: str
    stars: int
    rated_at: dt.datetime


class ServicePersonPublic(Public):
    person_id: str
    requested_id: str = Field(description="The id asked for (a merged-away id differs).")
    memberships: list[MembershipPublic] | None = Field(description="Needs loyalty.read.")
    coupons: list[ServiceCouponPublic] | None = Field(description="Needs loyalty.read.")
    orders: list[ServiceOrderPublic] | None = Field(
        description="Orders through the order middle platform, newest first (orders.read)."
    )
    orders_count: int | None = Field(description="All such orders, beyond this page.")
    complaints: list[ComplaintPublic]
    ratings: list[RatingPublic]
