"""The order API's models: a checkout request (quote and place), the priced answer line by line, an
order as read back with its pricing steps and refunds, and a refund request."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from newretail.api.models import Create, Public
from newretail.trade.checkout import CheckoutRequest, LineRequest, MemberRef, PricedBasket
from newretail.trade.refunds import REASONS, RefundLine


class LineCreate(Create):
    product_id: str = Field(max_length=32, examples=["P0001"])
    quantity: int = Field(description="Units, 1 to 99.", examples=[2])
    size: str | None = Field(None, max_length=8, description="A drink's size, e.g. M or L.")


class MemberCreate(Create):
    """The buyer: a OneID person id, or the identity record the channel knows them by."""

    person_id: str | None = Field(None, max_length=24)
    source: str | None = Field(None, max_length=32, examples=["app"])
    source_record_id: str | None = Field(None, max_length=128)

    @model_validator(mode="after")
    def _one_way(self) -> MemberCreate:
        by_record = self.source is not None and self.source_record_id is not None
        if (self.person_id is None) == (not by_record):
            raise ValueError("give either person_id, or source and source_record_id")
        return self


class CheckoutCreate(Create):
    channel: str = Field(examples=["app"], description="app, mini_program, pos, ...")
    store_id: str = Field(max_length=32, examples=["S0001"])
    client_order_id: str = Field(
        min_length=1,
        max_length=64,
        description="The channel's own order id: placing it again returns the same order.",
    )
    fulfilment: str = Field("pickup", examples=["pickup"])
    payment_method: str = Field(examples=["wechat_pay", "stored_value"])
    member: MemberCreate | None = None
    coupons: list[str] = Field(default_factory=list, max_length=5, description="Coupon codes.")
    lines: list[LineCreate] = Field(max_length=50)

    def request(self) -> CheckoutRequest:
        return CheckoutRequest(
            channel=self.channel,
            store_id=self.store_id,
            client_order_id=self.client_order_id,
            fulfilment=self.fulfilment,
            payment_method=self.payment_method,
            lines=[LineRequest(line.product_id, line.quantity, line.size) for line in self.lines],
            member=(
                MemberRef(
                    person_id=self.member.person_id,
                    source=self.member.source,
                    source_record_id=self.member.source_record_id,
                )
                if self.member
                else None
            ),
            coupon_ids=tuple(self.coupons),
        )


class QuotedLinePublic(Public):
    line_no: int
    product_id: str
    size: str | None
    quantity: int
    unit_price_minor: int = Field(description="List price plus the size's upcharge.")
    gross_minor: int
    discount_minor: int = Field(description="Every discount on the line, apportioned.")
    net_minor: int
    points: int = Field(description="Points the line earns.")


class StepPublic(Public):
    step: int
    source: str = Field(description="tier or coupon")
    coupon_id: str | None
    label: str
    amount_minor: int
    per_line: dict[int, int] = Field(description="What the step took from each line.")


class QuotePublic(Public):
    currency: str
    gross_minor: int
    discount_minor: int
    total_minor: int = Field(description="To pay: gross minus discounts.")
    points: int = Field(description="Points the order earns (0 for a guest).")
    person_id: str | None
    scheme_id: str | None
    tier: str | None
    lines: list[QuotedLinePublic]
    steps: list[StepPublic]

    @classmethod
    def of(cls, basket: PricedBasket) -> QuotePublic:
        quote = basket.quote
        return cls(
            currency=basket.store.currency,
            gross_minor=quote.gross_minor,
            discount_minor=quote.discount_minor,
            total_minor=quote.total_minor,
            points=basket.points,
            person_id=basket.person_id,
            scheme_id=basket.scheme.id if basket.scheme else None,
            tier=basket.tier,
            lines=[
                QuotedLinePublic(
                    line_no=line.line_no,
                    product_id=line.product_id,
                    size=line.size,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                    gross_minor=quoted.gross_minor,
                    discount_minor=quoted.discount_minor,
                    net_minor=quoted.net_minor,
                    points=points,
                )
                for line, quoted, points in zip(
                    basket.lines, quote.lines, basket.points_per_line, strict=True
                )
            ],
            steps=[StepPublic.model_validate(step) for step in quote.steps],
        )


class OrderLinePublic(Public):
    line_no: int
    product_id: str
    category: str
    size: str | None
    quantity: int
    unit_price_minor: int
    gross_minor: int
    discount_minor: int
    net_minor: int
    points_earned: int
    refunded_quantity: int


class DiscountPublic(Public):
    step: int
    line_no: int
    source: str
    coupon_id: str | None
    amount_minor: int


class RefundPublic(Public):
    id: str
    order_id: str
    lines: list[tuple[int, int, int]] = Field(description="[line_no, quantity, amount_minor]")
    amount_minor: int
    wallet_minor: int = Field(description="Part returned to the wallet.")
    points_reversed: int
    coupons_restored: list[str]
    reason: str
    at: dt.datetime


class OrderSummaryPublic(Public):
    id: str
    channel: str
    client_order_id: str
    store_id: str
    person_id: str | None
    status: str
    fulfilment: str
    currency: str
    gross_minor: int
    discount_minor: int
    paid_minor: int
    wallet_minor: int
    payment_method: str
    points_earned: int
    refunded_minor: int
    placed_at: dt.datetime
    business_date: dt.date


class OrderPublic(OrderSummaryPublic):
    lines: list[OrderLinePublic]
    discounts: list[DiscountPublic]
    refunds: list[RefundPublic]


class OrdersPublic(Public):
    data: list[OrderSummaryPublic]
    count: int


class RefundLineCreate(Create):
    line_no: int
    quantity: int


class RefundCreate(Create):
    lines: list[RefundLineCreate] | None = Field(
        None, description="Units to refund per line; omit to refund everything left."
    )
    reason: str = Field(examples=list(REASONS))
    refund_key: str | None = Field(
        None,
        max_length=128,
        description="Your natural key for this refund; the Idempotency-Key when omitted.",
    )

    def refund_lines(self) -> list[RefundLine] | None:
        if self.lines is None:
            return None
        return [RefundLine(line.line_no, line.quantity) for line in self.lines]


class StorePublic(Public):
    store_id: str
    name: str
    city: str
    currency: str
    timezone: str
    open: bool


class StoresPublic(Public):
    data: list[StorePublic]
    count: int


class MenuItemPublic(Public):
    product_id: str
    name: str
    name_en: str | None
    category: str
    subcategory: str | None
    price_minor: int = Field(description="List price in the store's currency, minor units.")
    currency: str
    sizes: dict[str, int] = Field(description="Upcharge per size in minor units; {} if unsized.")


class MenuPublic(Public):
    store: StorePublic
    data: list[MenuItemPublic]
    count: int
