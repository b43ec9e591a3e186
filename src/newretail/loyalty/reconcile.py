"""Proof that every balance is what its ledger says: account balances against their entries, the
``balance_after`` chain, points lots against their draws, and coupon states against their events."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, func, or_, select

from newretail.oltp.tables import (
    coupon_events,
    coupons,
    loyalty_accounts,
    loyalty_entries,
    points_draws,
    points_lots,
)

# The state a coupon is in after each kind of event.
_STATE_AFTER = {
    "issued": "issued",
    "reversed": "issued",
    "redeemed": "redeemed",
    "expired": "expired",
    "revoked": "revoked",
}


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that disagrees with its ledger.

    ``kind`` is one of ``account_balance`` (a balance against the sum of its entries),
    ``balance_chain`` (an entry's ``balance_after`` against the one before plus its amount),
    ``lot_remaining`` (a lot's remaining points against its amount less its draws),
    ``lot_amount`` (a lot against the entry that credited it), ``entry_draws`` (the lots an entry
    drew against its amount), ``points_lots`` (a points balance against its lots less the debt
    claw-backs left) and ``coupon_state`` (a coupon's status against its latest event).
    """

    kind: str
    subject: str
    expected: int | str
    actual: int | str


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    accounts: int
    entries: int
    lots: int
    coupons: int
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(conn: Connection) -> ReconcileReport:
    """Check every account, entry, lot and coupon; read-only."""
    differences = [
        *_account_balances(conn),
        *_balance_chain(conn),
        *_lots(conn),
        *_entry_draws(conn),
        *_points_lots(conn),
        *_coupon_states(conn),
    ]
    count = func.count()
    return ReconcileReport(
        accounts=conn.scalar(select(count).select_from(loyalty_accounts)) or 0,
        entries=conn.scalar(select(count).select_from(loyalty_entries)) or 0,
        lots=conn.scalar(select(count).select_from(points_lots)) or 0,
        coupons=conn.scalar(select(count).select_from(coupons)) or 0,
        differences=differences,
    )


def _account_subject(account_id: int, kind: str, membership_id: int) -> str:
    return f"account {account_id} ({kind} of membership {membership_id})"


def _account_balances(conn: Connection) -> list[Difference]:
    sums = (
        select(loyalty_entries.c.account_id, func.sum(loyalty_entries.c.amount).label("total"))
        .group_by(loyalty_entries.c.account_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    rows = conn.execute(
        select(loyalty_accounts, total.label("total"))
        .outerjoin(sums, sums.c.account_id == loyalty_accounts.c.id)
        .where(loyalty_accounts.c.balance != total)
        .order_by(loyalty_accounts.c.id)
    )
    return [
        Difference(
            "account_balance",
            _account_subject(row.id, row.kind, row.membership_id),
            int(row.total),
            row.balance,
        )
        for row in rows
    ]


def _balance_chain(conn: Connection) -> list[Difference]:
    before = func.lag(loyalty_entries.c.balance_after).over(
        partition_by=loyalty_entries.c.account_id, order_by=loyalty_entries.c.id
    )
    chain = select(
        loyalty_entries.c.id,
        loyalty_entries.c.account_id,
        loyalty_entries.c.amount,
        loyalty_entries.c.balance_after,
        func.coalesce(before, 0).label("before"),
    ).subquery()
    rows = conn.execute(
        select(chain)
        .where(chain.c.balance_after != chain.c.before + chain.c.amount)
        .order_by(chain.c.id)
    )
    return [
        Difference(
            "balance_chain",
            f"entry {row.id} of account {row.account_id}",
            row.before + row.amount,
            row.balance_after,
        )
        for row in rows
    ]


def _lots(conn: Connection) -> list[Difference]:
    drawn = (
        select(points_draws.c.lot_id, func.sum(points_draws.c.amount).label("drawn"))
        .group_by(points_draws.c.lot_id)
        .subquery()
    )
    expected = points_lots.c.amount - func.coalesce(drawn.c.drawn, 0)
    remaining = conn.execute(
        select(points_lots.c.id, points_lots.c.remaining, expected.label("expected"))
        .outerjoin(drawn, drawn.c.lot_id == points_lots.c.id)
        .where(points_lots.c.remaining != expected)
        .order_by(points_lots.c.id)
    )
    amounts = conn.execute(
        select(points_lots.c.id, points_lots.c.amount, loyalty_entries.c.amount.label("credited"))
        .join(loyalty_entries, loyalty_entries.c.id == points_lots.c.entry_id)
        .where(
            or_(
                points_lots.c.amount != loyalty_entries.c.amount,
                points_lots.c.account_id != loyalty_entries.c.account_id,
            )
        )
        .order_by(points_lots.c.id)
    )
    return [
        *(
            Difference("lot_remaining", f"lot {row.id}", int(row.expected), row.remaining)
            for row in remaining
        ),
        *(Difference("lot_amount", f"lot {row.id}", row.credited, row.amount) for row in amounts),
    ]


def _entry_draws(conn: Connection) -> list[Difference]:
    """Spends, expiries, debits by adjustment and restores draw exactly their amount; a claw-back
    draws between nothing and its amount (the rest is debt); credits draw nothing."""
    drawn_sub = (
        select(points_draws.c.entry_id, func.sum(points_draws.c.amount).label("drawn"))
        .group_by(points_draws.c.entry_id)
        .subquery()
    )
    kind, amount = loyalty_entries.c.kind, loyalty_entries.c.amount
    drawn = func.coalesce(drawn_sub.c.drawn, 0)
    exact = or_(kind.in_(["spend", "expire", "reverse_spend"]), and_(kind == "adjust", amount < 0))
    credit = or_(kind == "earn", and_(kind == "adjust", amount > 0))
    rows = conn.execute(
        select(loyalty_entries.c.id, kind, amount, drawn.label("drawn"))
        .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_entries.c.account_id)
        .outerjoin(drawn_sub, drawn_sub.c.entry_id == loyalty_entries.c.id)
        .where(
            loyalty_accounts.c.kind == "points",
            or_(
                and_(exact, drawn != -amount),
                and_(kind == "reverse_earn", or_(drawn < 0, drawn > -amount)),
                and_(credit, drawn != 0),
            ),
        )
        .order_by(loyalty_entries.c.id)
    )
    return [
        Difference(
            "entry_draws",
            f"entry {row.id} ({row.kind})",
            f"0..{-row.amount}" if row.kind == "reverse_earn" else max(0, -row.amount),
            int(row.drawn),
        )
        for row in rows
    ]


def _points_lots(conn: Connection) -> list[Difference]:
    in_lots = (
        select(points_lots.c.account_id, func.sum(points_lots.c.remaining).label("remaining"))
        .group_by(points_lots.c.account_id)
        .subquery()
    )
    drawn = (
        select(points_draws.c.entry_id, func.sum(points_draws.c.amount).label("drawn"))
        .group_by(points_draws.c.entry_id)
        .subquery()
    )
    debts = (
        select(
            loyalty_entries.c.account_id,
            func.sum(-loyalty_entries.c.amount - func.coalesce(drawn.c.drawn, 0)).label("debt"),
        )
        .outerjoin(drawn, drawn.c.entry_id == loyalty_entries.c.id)
        .where(loyalty_entries.c.kind == "reverse_earn")
        .group_by(loyalty_entries.c.account_id)
        .subquery()
    )
    expected = func.coalesce(in_lots.c.remaining, 0) - func.coalesce(debts.c.debt, 0)
    rows = conn.execute(
        select(loyalty_accounts, expected.label("expected"))
        .outerjoin(in_lots, in_lots.c.account_id == loyalty_accounts.c.id)
        .outerjoin(debts, debts.c.account_id == loyalty_accounts.c.id)
        .where(loyalty_accounts.c.kind == "points", loyalty_accounts.c.balance != expected)
        .order_by(loyalty_accounts.c.id)
    )
    return [
        Difference(
            "points_lots",
            _account_subject(row.id, row.kind, row.membership_id),
            int(row.expected),
            row.balance,
        )
        for row in rows
    ]


def _coupon_states(conn: Connection) -> list[Difference]:
    latest = (
        select(coupon_events.c.coupon_id, func.max(coupon_events.c.id).label("event_id"))
        .group_by(coupon_events.c.coupon_id)
        .subquery()
    )
    state = case(
        *((coupon_events.c.kind == kind, after) for kind, after in _STATE_AFTER.items()),
        else_=coupon_events.c.kind,
    )
    rows = conn.execute(
        select(coupons.c.id, coupons.c.status, coupon_events.c.kind, state.label("expected"))
        .outerjoin(latest, latest.c.coupon_id == coupons.c.id)
        .outerjoin(coupon_events, coupon_events.c.id == latest.c.event_id)
        .where(or_(coupon_events.c.id.is_(None), coupons.c.status != state))
        .order_by(coupons.c.id)
    )
    return [
        Difference(
            "coupon_state",
            f"coupon {row.id}",
            "no event" if row.kind is None else row.expected,
            row.status,
        )
        for row in rows
    ]
