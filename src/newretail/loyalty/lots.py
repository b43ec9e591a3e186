"""The mechanics of points lots behind :mod:`newretail.loyalty.points`: crediting a lot, taking points
first-in first-out, recording each draw, what a lot lost to expiry, and settling a claw-back's debt
from new points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from newretail.errors import Conflict
from newretail.loyalty import ledger
from newretail.loyalty.ledger import Account, Posted
from newretail.oltp.tables import loyalty_entries, points_draws, points_lots

_INSERT_LOT = insert(points_lots)


@dataclass(slots=True)
class Lot:
    id: int
    remaining: int
    expires_on: dt.date


def credit_lot(
    conn: Connection,
    account: Account,
    kind: str,
    points: int,
    expires_on: dt.date,
    natural_key: str,
    order_id: str | None,
    detail: Mapping[str, object],
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Post a credit of ``points`` on a locked account as a new lot, and settle any debt from it; a
    credit posted before under ``natural_key`` is returned, replayed, and nothing changes
    (``ledger.key_reused`` if it was another kind or amount)."""
    debt = max(0, -account.balance)
    posted = ledger.append_once(
        conn,
        account,
        kind=kind,
        amount=points,
        natural_key=natural_key,
        order_id=order_id,
        detail=detail,
        actor=actor,
        now=now,
    )
    if posted.replayed:
        return posted
    conn.execute(
        _INSERT_LOT,
        {
            "account_id": account.id,
            "entry_id": posted.entry_id,
            "amount": points,
            "remaining": points,
            "expires_on": expires_on,
        },
    )
    settle(conn, account.id, debt)
    return posted


def take(
    conn: Connection,
    account: Account | None,
    kind: str,
    points: int,
    natural_key: str,
    detail: Mapping[str, object],
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Post a debit of ``points`` on a locked account, drawn from the lots valid on ``now``'s date
    soonest expiry first; ``points.insufficient`` (nothing written) when they hold fewer."""
    lots = [] if account is None else open_lots(conn, account.id, valid_on=now.date())
    available = sum(lot.remaining for lot in lots)
    if account is None or available < points or account.balance < points:
        raise Conflict(
            "points.insufficient",
            f"{min(available, account.balance if account else 0)} points available, {points} asked",
            field="points",
        )
    posted = ledger.append(
        conn,
        account,
        kind=kind,
        amount=-points,
        natural_key=natural_key,
        order_id=None,
        detail=detail,
        actor=actor,
        now=now,
    )
    draw_fifo(conn, posted.entry_id, lots, points)
    return posted


def open_lots(conn: Connection, account_id: int, *, valid_on: dt.date | None) -> list[Lot]:
    """The account's lots with points left, soonest expiry first (only those valid on a date)."""
    query = (
        select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_on)
        .where(points_lots.c.account_id == account_id, points_lots.c.remaining > 0)
        .order_by(points_lots.c.expires_on, points_lots.c.id)
    )
    if valid_on is not None:
        query = query.where(points_lots.c.expires_on >= valid_on)
    return [Lot(row.id, row.remaining, row.expires_on) for row in conn.execute(query)]


def lot_of(conn: Connection, entry_id: int) -> int:
    """The id of the lot the credit ``entry_id`` opened."""
    return int(
        conn.execute(
            select(points_lots.c.id).where(points_lots.c.entry_id == entry_id)
        ).scalar_one()
    )


def expired_from(conn: Connection, lot_id: int) -> int:
    """The points the lot has lost to expiry: what expiry entries drew on it (a restored spend that
    expires again at once counts too)."""
    return int(
        conn.scalar(
            select(func.coalesce(func.sum(points_draws.c.amount), 0))
            .select_from(points_draws)
            .join(loyalty_entries, loyalty_entries.c.id == points_draws.c.entry_id)
            .where(points_draws.c.lot_id == lot_id, loyalty_entries.c.kind == "expire")
        )
        or 0
    )


def draw_fifo(
    conn: Connection, entry_id: int, lots: list[Lot], points: int, *, merge: bool = False
) -> int:
    """Draw up to ``points`` from ``lots`` in order; how many were drawn."""
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            move(conn, entry_id, lot.id, take, merge=merge)
            lot.remaining -= take
            left -= take
    return points - left


def move(conn: Connection, entry_id: int, lot_id: int, amount: int, *, merge: bool = False) -> None:
    """Draw ``amount`` from a lot for an entry (negative: put back). ``merge`` adds to an earlier
    draw of the same entry on the same lot, which only a debt settled from a restored lot can meet."""
    conn.execute(
        update(points_lots)
        .where(points_lots.c.id == lot_id)
        .values(remaining=points_lots.c.remaining - amount)
    )
    if not merge:
        conn.execute(insert(points_draws).values(entry_id=entry_id, lot_id=lot_id, amount=amount))
        return
    added = conn.execute(
        update(points_draws)
        .where(points_draws.c.entry_id == entry_id, points_draws.c.lot_id == lot_id)
        .values(amount=points_draws.c.amount + amount)
    ).rowcount
    if added == 0:
        conn.execute(insert(points_draws).values(entry_id=entry_id, lot_id=lot_id, amount=amount))


def settle(conn: Connection, account_id: int, debt: int) -> None:
    """Pay ``debt`` (the claw-backs' undrawn rest, owed before points were credited) from the lots,
    oldest claw-back first, as further draws of those claw-backs."""
    if debt <= 0:
        return
    owed = -loyalty_entries.c.amount - func.coalesce(func.sum(points_draws.c.amount), 0)
    claw_backs = conn.execute(
        select(loyalty_entries.c.id, owed.label("owed"))
        .select_from(
            loyalty_entries.outerjoin(points_draws, points_draws.c.entry_id == loyalty_entries.c.id)
        )
        .where(loyalty_entries.c.account_id == account_id, loyalty_entries.c.kind == "reverse_earn")
        .group_by(loyalty_entries.c.id, loyalty_entries.c.amount)
        .having(owed > 0)
        .order_by(loyalty_entries.c.id)
    ).all()
    lots = open_lots(conn, account_id, valid_on=None)
    for claw_back in claw_backs:
        if draw_fifo(conn, claw_back.id, lots, claw_back.owed, merge=True) < claw_back.owed:
            break
