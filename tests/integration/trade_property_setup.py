"""The steps the trade property test draws and the model it keeps of one shopper: top-ups, orders
(random baskets, an optional coupon, wallet or card), refunds of random lines (or of everything, or a
refund key sent again), points spent, days passing and orders sent again. Built on the shop of
``tests.integration.trade_setup``."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, select
from tests.integration.trade_setup import (
    BEANS,
    CROISSANT,
    FIVE_OFF,
    FREE_COFFEE,
    LATTE,
    NOW,
    TWENTY_PCT,
    Shopper,
    counts,
)

from newretail.loyalty import ledger, wallet
from newretail.loyalty.coupon_issue import issue
from newretail.oltp.tables import coupons, loyalty_accounts, loyalty_entries
from newretail.trade.checkout import CheckoutRequest, LineRequest, MemberRef
from newretail.trade.refunds import Refund, RefundLine

PRODUCTS = ((LATTE, ("M", "L", None)), (CROISSANT, (None,)), (BEANS, (None,)))
TEMPLATES = (FIVE_OFF, FREE_COFFEE, TWENTY_PCT)
NO_COUPON, REUSE = 0, len(TEMPLATES) + 1  # coupon choices around "a new one of TEMPLATES[i - 1]"


@dataclass(frozen=True)
class TopUp:
    amount: int
    bonus: int


@dataclass(frozen=True)
class Order:
    lines: tuple[tuple[int, int, int], ...]  # (product, quantity, size) indexes into PRODUCTS
    coupon: int  # NO_COUPON, a new coupon of TEMPLATES[coupon - 1], or REUSE one given before
    pick: int  # which coupon to reuse
    from_wallet: bool


@dataclass(frozen=True)
class RefundStep:
    order: int
    lines: tuple[tuple[int, int], ...]  # (line index, quantity)
    whole: bool  # all that is left instead of the lines
    again: int  # > 0: send an earlier refund key of the order again (with these lines)


@dataclass(frozen=True)
class Spend:
    points: int


@dataclass(frozen=True)
class Advance:
    days: int


@dataclass(frozen=True)
class PlaceAgain:
    order: int


Step = TopUp | Order | RefundStep | Spend | Advance | PlaceAgain

ORDERS = st.builds(
    Order,
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 4), st.integers(0, 2)), min_size=1, max_size=3
    ).map(tuple),
    st.integers(NO_COUPON, REUSE),
    st.integers(0, 9),
    st.booleans(),
)
REFUNDS = st.builds(
    RefundStep,
    st.integers(0, 9),
    st.lists(st.tuples(st.integers(0, 2), st.integers(1, 2)), min_size=1, max_size=3).map(tuple),
    st.integers(0, 3).map(lambda n: n == 0),
    st.sampled_from([0, 1, 2]),
)
# Orders and refunds are the point: drawn three and two times as often as the rest (``one_of``
# would count a repeated strategy once).
_BRANCHES: list[st.SearchStrategy[Step]] = [
    ORDERS,
    ORDERS,
    ORDERS,
    REFUNDS,
    REFUNDS,
    st.builds(TopUp, st.integers(1, 20_000), st.integers(0, 2_000)),
    st.builds(Spend, st.integers(1, 150)),
    st.builds(Advance, st.integers(0, 20)),
    st.builds(PlaceAgain, st.integers(0, 9)),
]
STEPS: st.SearchStrategy[Step] = st.sampled_from(_BRANCHES).flatmap(lambda branch: branch)


@dataclass
class Placed:
    """An order as the model knows it: what it asked, cost and earned, and what came back since."""

    order_id: str
    request: CheckoutRequest
    coupons: tuple[str, ...]
    paid: int
    wallet: int
    points: int
    quantities: dict[int, int]
    refunded: dict[int, int]
    refunds: dict[str, Refund] = field(default_factory=dict)  # by refund key, first answers

    @property
    def fully_refunded(self) -> bool:
        return self.refunded == self.quantities


@dataclass
class Model:
    """One shopper's sequence: money topped up, points spent, orders placed, coupons given."""

    shopper: Shopper
    now: dt.datetime = NOW
    principal: int = 0
    bonus: int = 0
    spent: int = 0
    orders: list[Placed] = field(default_factory=list)
    coupons: dict[str, str | None] = field(default_factory=dict)  # coupon -> order redeemed on
    serial: itertools.count[int] = field(default_factory=itertools.count)

    def key(self, kind: str) -> str:
        return f"{kind}-{self.shopper.person_id}-{next(self.serial)}"

    @property
    def wallet(self) -> int:
        """What the wallet holds: top-ups, less orders' wallet shares, plus refunds' wallet parts."""
        return (
            self.principal
            + self.bonus
            - sum(order.wallet for order in self.orders)
            + sum(r.wallet_minor for order in self.orders for r in order.refunds.values())
        )

    @property
    def earned(self) -> int:
        return sum(order.points for order in self.orders)

    @property
    def reversed(self) -> int:
        return sum(r.points_reversed for order in self.orders for r in order.refunds.values())

    def request(self, step: Order, coupon_ids: tuple[str, ...]) -> CheckoutRequest:
        return CheckoutRequest(
            channel="app",
            store_id="S1",
            client_order_id=self.key("order"),
            fulfilment="pickup",
            payment_method="stored_value" if step.from_wallet else "wechat_pay",
            lines=[
                LineRequest(PRODUCTS[p][0], quantity, PRODUCTS[p][1][size % len(PRODUCTS[p][1])])
                for p, quantity, size in step.lines
            ],
            member=MemberRef(source="app", source_record_id=self.shopper.app_account),
            coupon_ids=coupon_ids,
        )

    def refund_lines(self, order: Placed, step: RefundStep) -> list[RefundLine] | None:
        if step.whole:
            return None
        count = len(order.quantities)
        return [RefundLine(index % count + 1, quantity) for index, quantity in step.lines]


def give_coupon(engine: Engine, model: Model, template_id: str) -> str:
    with engine.begin() as conn:
        result = issue(
            conn,
            template_id,
            [model.shopper.person_id],
            issue_key=model.key("issue"),
            actor="test",
            now=model.now,
        )
    (code,) = result.coupon_ids
    model.coupons[code] = None
    return code


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused step must leave as it was."""

    rows: dict[str, int]
    balances: dict[str, int]
    coupons: dict[str, tuple[str, str | None]]


def snapshot(conn: Connection, model: Model) -> Snapshot:
    return Snapshot(
        rows=counts(conn),
        balances=balances(conn, model.shopper.membership_id),
        coupons={
            row.id: (row.status, row.order_id)
            for row in conn.execute(
                select(coupons.c.id, coupons.c.status, coupons.c.order_id).where(
                    coupons.c.person_id == model.shopper.person_id
                )
            )
        },
    )


def balances(conn: Connection, membership_id: int) -> dict[str, int]:
    held = wallet.balances(conn, membership_id)
    return {
        "principal": held.principal_minor,
        "bonus": held.bonus_minor,
        "points": ledger.balance(conn, membership_id, "points"),
    }


def entry_sums(conn: Connection, membership_id: int) -> dict[str, tuple[int, int]]:
    """Per account of the membership: (balance, sum of its entries)."""
    sums = (
        select(loyalty_entries.c.account_id, func.sum(loyalty_entries.c.amount).label("total"))
        .group_by(loyalty_entries.c.account_id)
        .subquery()
    )
    rows = conn.execute(
        select(loyalty_accounts.c.kind, loyalty_accounts.c.balance, sums.c.total)
        .outerjoin(sums, sums.c.account_id == loyalty_accounts.c.id)
        .where(loyalty_accounts.c.membership_id == membership_id)
    )
    return {row.kind: (row.balance, int(row.total or 0)) for row in rows}


def points_by_kind(conn: Connection, membership_id: int) -> dict[str, int]:
    """The points ledger's entries of the membership summed by kind (spends and the like < 0)."""
    rows = conn.execute(
        select(loyalty_entries.c.kind, func.sum(loyalty_entries.c.amount))
        .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_entries.c.account_id)
        .where(
            loyalty_accounts.c.membership_id == membership_id, loyalty_accounts.c.kind == "points"
        )
        .group_by(loyalty_entries.c.kind)
    )
    return {kind: int(total) for kind, total in rows}
