"""What quoting and placing an order share: the request, and its resolution against the catalogue, the
member's scheme, tier and coupons into a priced basket. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from newretail.errors import InvalidInput
from newretail.loyalty.coupon_templates import CouponTemplate
from newretail.loyalty.coupons import Coupon, coupons_for_checkout
from newretail.loyalty.earning import points_for_lines, tier_rule
from newretail.loyalty.memberships import Membership, person_and_membership
from newretail.loyalty.scheme_cache import cached_scheme_for_channel
from newretail.loyalty.schemes import Scheme
from newretail.model.codes import CHANNELS, FULFILMENTS, PAYMENT_METHODS
from newretail.trade.catalogue import StoreInfo
from newretail.trade.catalogue_cache import cached_items, cached_store
from newretail.trade.pricing import PricingCoupon, PricingLine, Quote, price

MAX_LINES = 50
MAX_QUANTITY = 99
MAX_COUPONS = 5
# What a member pays with at our own checkout; "platform" is a delivery platform's settlement.
CHECKOUT_PAYMENTS = tuple(method for method in PAYMENT_METHODS if method != "platform")
STORED_VALUE = "stored_value"


@dataclass(frozen=True, slots=True)
class LineRequest:
    product_id: str
    quantity: int
    size: str | None = None


@dataclass(frozen=True, slots=True)
class MemberRef:
    """Who is buying: a OneID person, or an identity record OneID resolves to one."""

    person_id: str | None = None
    source: str | None = None
    source_record_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    channel: str
    store_id: str
    client_order_id: str
    fulfilment: str
    payment_method: str
    lines: Sequence[LineRequest]
    member: MemberRef | None = None
    coupon_ids: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PricedBasket:
    """A request resolved and priced: what a quote shows and what placing the order writes."""

    request: CheckoutRequest
    store: StoreInfo
    lines: list[PricingLine]
    quote: Quote
    person_id: str | None
    scheme: Scheme | None
    membership: Membership | None
    tier: str | None
    coupons: list[tuple[Coupon, CouponTemplate]]
    points_per_line: list[int]
    business_date: dt.date

    @property
    def points(self) -> int:
        return sum(self.points_per_line)


def priced_basket(conn: Connection, request: CheckoutRequest, *, now: dt.datetime) -> PricedBasket:
    """Resolve and price ``request``; every refusal is an :class:`InvalidInput` naming its field."""
    _check_request(request)
    store = cached_store(conn, request.store_id, now=now)
    if not store.open:
        raise InvalidInput(
            "order.store_closed", f"store {store.store_id} is closed", field="store_id"
        )
    lines = _pricing_lines(conn, request, store, now)
    scheme = (
        cached_scheme_for_channel(conn, request.channel, currency=store.currency, now=now)
        if request.member is not None
        else None
    )
    person_id, membership = _member(conn, request.member, scheme)
    tier = membership.tier if membership else (scheme.rules.tiers[0].id if scheme else None)
    coupons = _coupons(conn, request, person_id, store, now)
    discount_percent = tier_rule(scheme, tier).discount_percent if scheme and tier else 0
    quote = price(
        lines,
        channel=request.channel,
        store_id=store.store_id,
        tier_discount_percent=discount_percent,
        coupons=[_pricing_coupon(coupon, template) for coupon, template in coupons],
    )
    points = (
        points_for_lines(
            scheme,
            tier,
            request.channel,
            [
                (line.category, quoted.net_minor)
                for line, quoted in zip(lines, quote.lines, strict=True)
            ],
        )
        if scheme and tier
        else [0] * len(lines)
    )
    return PricedBasket(
        request=request,
        store=store,
        lines=lines,
        quote=quote,
        person_id=person_id,
        scheme=scheme,
        membership=membership,
        tier=tier,
        coupons=coupons,
        points_per_line=points,
        business_date=now.astimezone(ZoneInfo(store.timezone)).date(),
    )


def _check_request(request: CheckoutRequest) -> None:
    if request.channel not in CHANNELS:
        raise InvalidInput(
            "order.unknown_channel", f"unknown channel {request.channel!r}", field="channel"
        )
    if request.fulfilment not in FULFILMENTS:
        raise InvalidInput(
            "order.unknown_fulfilment",
            f"unknown fulfilment {request.fulfilment!r}",
            field="fulfilment",
        )
    if request.payment_method not in CHECKOUT_PAYMENTS:
        raise InvalidInput(
            "order.unknown_payment_method",
            f"payment method must be one of {', '.join(CHECKOUT_PAYMENTS)}",
            field="payment_method",
        )
    if not request.lines:
        raise InvalidInput("order.no_lines", "an order needs at least one line", field="lines")
    if len(request.lines) > MAX_LINES:
        raise InvalidInput("order.too_many_lines", f"at most {MAX_LINES} lines", field="lines")
    for index, line in enumerate(request.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidInput(
                "order.bad_quantity",
                f"a quantity is 1 to {MAX_QUANTITY}",
                field=f"lines[{index}].quantity",
            )
    if len(request.coupon_ids) > MAX_COUPONS:
        raise InvalidInput(
            "order.too_many_coupons", f"at most {MAX_COUPONS} coupons", field="coupons"
        )
    if request.payment_method == STORED_VALUE and request.member is None:
        raise InvalidInput(
            "order.wallet_needs_member", "paying from the wallet needs a member", field="member"
        )


def _pricing_lines(
    conn: Connection, request: CheckoutRequest, store: StoreInfo, now: dt.datetime
) -> list[PricingLine]:
    product_ids = {line.product_id for line in request.lines}
    items = cached_items(conn, product_ids, currency=store.currency, now=now)
    lines = []
    for index, line in enumerate(request.lines):
        item = items.get(line.product_id)
        if item is None:
            raise InvalidInput(
                "order.unknown_item",
                f"no product {line.product_id!r} on sale in {store.currency}",
                field=f"lines[{index}].product_id",
            )
        if line.size is not None and line.size not in item.sizes:
            sizes = ", ".join(item.sizes) or "none"
            raise InvalidInput(
                "order.unknown_size",
                f"{item.product_id} comes in sizes: {sizes}",
                field=f"lines[{index}].size",
            )
        upcharge = item.sizes.get(line.size, 0) if line.size else 0
        lines.append(
            PricingLine(
                line_no=index + 1,
                product_id=item.product_id,
                category=item.category,
                size=line.size,
                quantity=line.quantity,
                unit_price_minor=item.price_minor + upcharge,
                size_upcharge_minor=upcharge,
            )
        )
    return lines


def _member(
    conn: Connection, member: MemberRef | None, scheme: Scheme | None
) -> tuple[str | None, Membership | None]:
    """The person buying (None: anonymous) and their membership of the channel's scheme."""
    if member is None:
        return None, None
    return person_and_membership(
        conn,
        scheme.id if scheme is not None else None,
        person_id=member.person_id,
        source=member.source,
        source_record_id=member.source_record_id,
    )


def _coupons(
    conn: Connection,
    request: CheckoutRequest,
    person_id: str | None,
    store: StoreInfo,
    now: dt.datetime,
) -> list[tuple[Coupon, CouponTemplate]]:
    if not request.coupon_ids:
        return []
    if person_id is None:
        raise InvalidInput("order.coupon_needs_member", "coupons need a member", field="coupons")
    chosen = coupons_for_checkout(conn, request.coupon_ids, person_id=person_id, now=now)
    for index, (_, template) in enumerate(chosen):
        if template.currency != store.currency:
            raise InvalidInput(
                "coupon.wrong_currency",
                f"this coupon is in {template.currency}; the store sells in {store.currency}",
                field=f"coupons[{index}]",
            )
    return chosen


def _pricing_coupon(coupon: Coupon, template: CouponTemplate) -> PricingCoupon:
    target = template.target or {}
    return PricingCoupon(
        coupon_id=coupon.id,
        kind=template.kind,
        amount_off_minor=template.amount_off_minor,
        threshold_minor=template.threshold_minor,
        percent_off=template.percent_off,
        cap_minor=template.cap_minor,
        target_product_id=target.get("product_id"),
        target_category=target.get("category"),
        scope=template.scope,
        stacks_with_tier=template.stacks_with_tier,
    )
