"""The checkout pricing engine: pure arithmetic over a basket, the member's tier discount and the chosen
coupons, returning what each step took from each line. No database: the order code loads the inputs.

Order of steps: (1) item coupons, free items first, then size upgrades, each on one unit that no other
item coupon has touched; (2) the tier discount on what remains of each line, skipped when a chosen
coupon does not stack with it; (3) at most one order-level coupon on the remaining subtotal of the lines
in its scope, apportioned over them by largest remainder. Percent discounts round down to the minor
unit, a line never goes below zero, and a coupon that would take nothing is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from newretail.errors import InvalidInput

ITEM_KINDS = ("free_item", "size_upgrade")  # applied in this order
ORDER_KINDS = ("amount_off", "percent_off")


@dataclass(frozen=True, slots=True)
class PricingLine:
    line_no: int
    product_id: str
    category: str
    size: str | None
    quantity: int
    unit_price_minor: int  # list price plus the size upcharge
    size_upcharge_minor: int


class Scope(Protocol):
    """Where a coupon applies; an empty list means everywhere (the loyalty ``CouponScope`` fits)."""

    @property
    def channels(self) -> Sequence[str]: ...
    @property
    def stores(self) -> Sequence[str]: ...
    @property
    def products(self) -> Sequence[str]: ...
    @property
    def categories(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class PricingScope:
    channels: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PricingCoupon:
    coupon_id: str
    kind: str  # amount_off, percent_off, free_item, size_upgrade
    amount_off_minor: int | None = None
    threshold_minor: int | None = None
    percent_off: int | None = None
    cap_minor: int | None = None
    target_product_id: str | None = None
    target_category: str | None = None
    scope: Scope = field(default_factory=PricingScope)
    stacks_with_tier: bool = True


@dataclass(frozen=True, slots=True)
class QuotedLine:
    line_no: int
    gross_minor: int
    discount_minor: int
    net_minor: int


@dataclass(frozen=True, slots=True)
class Step:
    step: int
    source: Literal["tier", "coupon"]
    coupon_id: str | None
    label: str
    amount_minor: int
    per_line: dict[int, int]  # line_no -> amount taken (lines it took nothing from are left out)


@dataclass(frozen=True, slots=True)
class Quote:
    lines: list[QuotedLine]
    steps: list[Step]
    gross_minor: int
    discount_minor: int
    total_minor: int
    coupon_discounts: dict[str, int]


def price(
    lines: Sequence[PricingLine],
    *,
    channel: str,
    store_id: str,
    tier_discount_percent: int,
    coupons: Sequence[PricingCoupon],
) -> Quote:
    """Price a basket; a coupon that cannot apply raises ``InvalidInput`` with ``coupons[i]``.

    >>> latte = PricingLine(1, "P002", "coffee", "L", 2, 2300, 300)
    >>> ten_off = PricingCoupon("C1", "amount_off", amount_off_minor=1000, threshold_minor=4000)
    >>> q = price([latte], channel="app", store_id="S1", tier_discount_percent=5, coupons=[ten_off])
    >>> q.gross_minor, [s.amount_minor for s in q.steps], q.total_minor
    (4600, [230, 1000], 3370)
    """
    _check_lines(lines)
    if not 0 <= tier_discount_percent <= 100:
        raise ValueError(f"tier discount {tier_discount_percent}% is not a percentage")
    items, order = _sort_coupons(coupons, channel=channel, store_id=store_id)
    gross = {line.line_no: line.unit_price_minor * line.quantity for line in lines}
    remaining = dict(gross)
    touched = {line.line_no: 0 for line in lines}  # units an item coupon has taken from
    steps: list[Step] = []

    def take(
        source: Literal["tier", "coupon"],
        coupon_id: str | None,
        label: str,
        per_line: dict[int, int],
    ) -> None:
        for line_no, amount in per_line.items():
            remaining[line_no] -= amount
        taken = {n: a for n, a in per_line.items() if a}
        steps.append(Step(len(steps) + 1, source, coupon_id, label, sum(taken.values()), taken))

    for i, coupon in items:
        line = _item_line(i, coupon, lines, touched)
        touched[line.line_no] += 1
        if coupon.kind == "free_item":
            take("coupon", coupon.coupon_id, "free item", {line.line_no: line.unit_price_minor})
        else:
            take(
                "coupon",
                coupon.coupon_id,
                "free size upgrade",
                {line.line_no: line.size_upcharge_minor},
            )
    pct = tier_discount_percent if all(c.stacks_with_tier for c in coupons) else 0
    tier = {n: r * pct // 100 for n, r in remaining.items()}
    if any(tier.values()):
        take("tier", None, f"member tier {pct}% off", tier)
    for i, coupon in order:
        eligible = [
            (line.line_no, remaining[line.line_no]) for line in lines if _in_scope(coupon, line)
        ]
        amount = _order_discount(i, coupon, eligible)
        take("coupon", coupon.coupon_id, _order_label(coupon), apportion(amount, eligible))

    quoted = [
        QuotedLine(n, gross[n], gross[n] - remaining[n], remaining[n])
        for n in (x.line_no for x in lines)
    ]
    discount = sum(step.amount_minor for step in steps)
    return Quote(
        lines=quoted,
        steps=steps,
        gross_minor=sum(gross.values()),
        discount_minor=discount,
        total_minor=sum(gross.values()) - discount,
        coupon_discounts={s.coupon_id: s.amount_minor for s in steps if s.coupon_id is not None},
    )


def apportion(amount: int, weights: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Split ``amount`` over ``(key, weight)`` pairs in proportion to the weights by largest remainder
    (ties to the earlier pair); no share exceeds its weight when ``amount`` does not exceed their sum.

    >>> apportion(100, [(1, 1), (2, 1), (3, 1)])
    {1: 34, 2: 33, 3: 33}
    """
    total = sum(weight for _, weight in weights)
    if amount == 0 or total == 0:
        return {key: 0 for key, _ in weights}
    shares = {key: amount * weight // total for key, weight in weights}
    left = amount - sum(shares.values())
    by_remainder = sorted(
        enumerate(weights), key=lambda item: (-(amount * item[1][1] % total), item[0])
    )
    for _, (key, _) in by_remainder[:left]:
        shares[key] += 1
    return shares


def _check_lines(lines: Sequence[PricingLine]) -> None:
    seen: set[int] = set()
    for i, line in enumerate(lines):
        if line.quantity <= 0:
            raise InvalidInput(
                "order.bad_quantity", "quantity must be at least 1", field=f"lines[{i}].quantity"
            )
        if line.line_no in seen:
            raise ValueError(f"line number {line.line_no} appears twice")
        if not 0 <= line.size_upcharge_minor <= line.unit_price_minor:
            raise ValueError(f"line {line.line_no}: upcharge outside 0..unit price")
        seen.add(line.line_no)


def _refuse(code: str, i: int, message: str) -> InvalidInput:
    return InvalidInput(f"coupon.{code}", message, field=f"coupons[{i}]")


def _sort_coupons(
    coupons: Sequence[PricingCoupon], *, channel: str, store_id: str
) -> tuple[list[tuple[int, PricingCoupon]], list[tuple[int, PricingCoupon]]]:
    """The item coupons in the order they apply and the order-level one, each with its position;
    refuses unknown kinds, repeats, coupons for another channel or store, a second order coupon."""
    seen: set[str] = set()
    items: list[tuple[int, PricingCoupon]] = []
    order: list[tuple[int, PricingCoupon]] = []
    for i, coupon in enumerate(coupons):
        if coupon.coupon_id in seen:
            raise _refuse("duplicate", i, "the same coupon is chosen twice")
        seen.add(coupon.coupon_id)
        if coupon.kind not in ITEM_KINDS + ORDER_KINDS:
            raise _refuse("not_applicable", i, f"unknown coupon kind {coupon.kind!r}")
        scope = coupon.scope
        if scope.channels and channel not in scope.channels:
            raise _refuse("out_of_scope", i, f"the coupon is not valid in channel {channel}")
        if scope.stores and store_id not in scope.stores:
            raise _refuse("out_of_scope", i, f"the coupon is not valid at store {store_id}")
        if coupon.kind in ORDER_KINDS:
            if order:
                raise _refuse("not_stackable", i, "only one order-level coupon per order")
            order.append((i, coupon))
        else:
            items.append((i, coupon))
    items.sort(key=lambda item: ITEM_KINDS.index(item[1].kind))
    return items, order


def _in_scope(coupon: PricingCoupon, line: PricingLine) -> bool:
    scope = coupon.scope
    if (scope.products or scope.categories) and not (
        line.product_id in scope.products or line.category in scope.categories
    ):
        return False
    if coupon.target_product_id is not None and line.product_id != coupon.target_product_id:
        return False
    return coupon.target_category is None or line.category == coupon.target_category


def _item_line(
    i: int, coupon: PricingCoupon, lines: Sequence[PricingLine], touched: dict[int, int]
) -> PricingLine:
    """The line whose unit the item coupon takes: the dearest unit for a free item, the largest
    upcharge for a size upgrade, among units in scope no other item coupon has taken from."""
    free = [
        line for line in lines if touched[line.line_no] < line.quantity and _in_scope(coupon, line)
    ]
    if coupon.kind == "free_item":
        candidates = [(line.unit_price_minor, line) for line in free if line.unit_price_minor > 0]
    else:
        candidates = [
            (line.size_upcharge_minor, line) for line in free if line.size_upcharge_minor > 0
        ]
    if not candidates:
        what = "item" if coupon.kind == "free_item" else "upsized drink"
        raise _refuse("not_applicable", i, f"no {what} in the basket the coupon applies to")
    # max keeps the first of equal values: ties go to the earlier line
    return max(candidates, key=lambda candidate: candidate[0])[1]


def _order_discount(i: int, coupon: PricingCoupon, eligible: Sequence[tuple[int, int]]) -> int:
    if not eligible:
        raise _refuse("not_applicable", i, "no item in the basket is in the coupon's scope")
    base = sum(amount for _, amount in eligible)
    threshold = coupon.threshold_minor or 0
    if base < threshold:
        raise _refuse(
            "below_threshold", i, f"eligible spend {base} is below the threshold {threshold}"
        )
    if coupon.kind == "amount_off":
        amount = min(coupon.amount_off_minor or 0, base)
    else:
        amount = base * (coupon.percent_off or 0) // 100
        if coupon.cap_minor is not None:
            amount = min(amount, coupon.cap_minor)
    if amount <= 0:
        raise _refuse("not_applicable", i, "the coupon takes nothing off this basket")
    return amount


def _order_label(coupon: PricingCoupon) -> str:
    if coupon.kind == "amount_off":
        return "amount off"
    return f"{coupon.percent_off}% off"
