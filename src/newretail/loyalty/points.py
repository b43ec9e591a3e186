"""Points: a lot per earn, spent and expired first-in first-out by expiry date, every draw on a lot
recorded (``points_draws``) so that a reversal puts back exactly what it took.

The bookkeeping :mod:`newretail.loyalty.reconcile` checks: a lot's ``remaining`` is its ``amount``
minus the sum of its draws, where a spend, an expiry or a claw-back draws a positive amount and a
reversed spend draws the same amount negative (a restore). A claw-back (``reverse_earn``) may find
fewer points on the lots than it takes; the rest is a debt (a negative balance) that the next points
credited settle, as further draws of that claw-back entry. So a points balance is always the lots'
remaining points less the claw-backs' undrawn rest, and while any debt is owed every lot is empty.
Points an earn's lot has already lost to expiry absorb the reversals of that earn before any are
clawed back, so a refund never takes expired points a second time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from newretail.errors import InvalidInput, NotFound
from newretail.loyalty import ledger, lots
from newretail.loyalty.ledger import Account, Posted
from newretail.oltp.tables import loyalty_entries, points_draws, points_lots

# The expiry of points a service agent credits without one.
NEVER = dt.date(9999, 12, 31)


def earn(
    conn: Connection,
    membership_id: int,
    points: int,
    *,
    expires_on: dt.date,
    natural_key: str,
    order_id: str | None,
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Credit ``points`` as a new lot that expires after ``expires_on``."""
    _require_positive(points)
    account = _opened(conn, membership_id, now)
    detail = {"expires_on": expires_on.isoformat()}
    return lots.credit_lot(
        conn, account, "earn", points, expires_on, natural_key, order_id, detail, actor, now
    )


def spend(
    conn: Connection,
    membership_id: int,
    points: int,
    *,
    natural_key: str,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Spend ``points`` from the lots valid today (``now``'s date), soonest expiry first;
    ``points.insufficient`` (nothing written) when they hold fewer."""
    _require_positive(points)
    account = _existing(conn, membership_id)
    if account is not None:
        prior = _replay(conn, account, natural_key, kind="spend", amount=-points)
        if prior is not None:
            return prior
    return lots.take(conn, account, "spend", points, natural_key, {"reason": reason}, actor, now)


def adjust(
    conn: Connection,
    membership_id: int,
    points: int,
    *,
    natural_key: str,
    reason: str,
    actor: str,
    now: dt.datetime,
    expires_on: dt.date | None = None,
) -> Posted:
    """A service correction: a positive ``points`` is a new lot (never expiring unless
    ``expires_on``), a negative one is taken like a spend."""
    if points == 0:
        raise InvalidInput("points.zero", "an adjustment needs a non-zero number", field="points")
    if points < 0:
        account = _existing(conn, membership_id)
        if account is not None:
            prior = _replay(conn, account, natural_key, kind="adjust", amount=points)
            if prior is not None:
                return prior
        return lots.take(
            conn, account, "adjust", -points, natural_key, {"reason": reason}, actor, now
        )
    account = _opened(conn, membership_id, now)
    until = expires_on or NEVER
    detail = {"reason": reason, "expires_on": until.isoformat()}
    return lots.credit_lot(
        conn, account, "adjust", points, until, natural_key, None, detail, actor, now
    )


def reverse_earn(
    conn: Connection,
    membership_id: int,
    *,
    earn_key: str,
    points: int,
    natural_key: str,
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Reverse ``points`` of the earn posted as ``earn_key`` (a refund of what earned them), and
    claw back what the member still has the use of.

    Points of that earn's own lot that have already expired absorb reversals first: the member has
    lost them once, and taking them again would cost the member twice. For an earn of ``E`` points
    whose lot has lost ``X`` to expiry, reversals totalling ``R`` (at most ``E``, else
    ``points.reversal_exceeds_earn``) claw back ``max(0, R - X)`` points in all, and each call
    claws back the difference from what the earlier ones did, so refunds in parts add up to one
    whole refund. Earn 100, 40 expire: reversing 30 claws back nothing, the other 70 claw back 60.
    Should more of the lot expire between two reversals, what was clawed back stands (a reversal
    never gives points back).

    The points clawed back come from the earn's own lot first, then from the other lots soonest
    expiry first; what the lots do not hold becomes a debt, the one way a points balance goes
    below 0. The entry's amount is minus the points clawed back (0 when expiry absorbed the whole
    reversal); its detail keeps the ``points`` reversed, which a retry under ``natural_key`` must
    repeat.
    """
    _require_positive(points)
    account = _existing(conn, membership_id)
    earned = None if account is None else ledger.find(conn, account.id, earn_key)
    if account is None or earned is None or earned[0] != "earn":
        raise NotFound("points.earn_unknown", f"no points earned as {earn_key!r}", field="earn_key")
    earn_entry = earned[1]
    before = _reversals(conn, account.id, earn_entry.entry_id)
    prior = ledger.find(conn, account.id, natural_key)
    if prior is not None:
        if prior[0] != "reverse_earn" or before.get(prior[1].entry_id, (0, 0))[0] != points:
            raise ledger.key_reused(natural_key)
        return prior[1]
    reversed_before = sum(reversed_ for reversed_, _ in before.values())
    clawed_before = sum(clawed for _, clawed in before.values())
    if reversed_before + points > earn_entry.amount:
        raise InvalidInput(
            "points.reversal_exceeds_earn",
            f"{earn_key!r} earned {earn_entry.amount} points, {reversed_before} already reversed",
            field="points",
        )
    own = lots.lot_of(conn, earn_entry.entry_id)
    expired = lots.expired_from(conn, own)
    claw = max(0, reversed_before + points - expired - clawed_before)
    posted = ledger.append(
        conn,
        account,
        kind="reverse_earn",
        amount=-claw,
        natural_key=natural_key,
        order_id=None,
        detail={
            "earn_key": earn_key,
            "earn_entry_id": earn_entry.entry_id,
            "points": points,
            "absorbed_by_expiry": points - claw,
        },
        actor=actor,
        now=now,
    )
    open_lots = lots.open_lots(conn, account.id, valid_on=None)
    open_lots.sort(key=lambda lot: lot.id != own)  # stable: the others stay soonest expiry first
    lots.draw_fifo(conn, posted.entry_id, open_lots, claw)
    return posted


def reverse_spend(
    conn: Connection,
    membership_id: int,
    *,
    spend_key: str,
    natural_key: str,
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Put back exactly the lots the spend ``spend_key`` drew (a spend reversed before returns that
    reversal, replayed).

    A restored lot that has expired by ``now``'s date, or that the expiry run has already emptied,
    expires again at once: a second entry (kind ``expire``, key ``f"{natural_key}:expire"``) takes
    the restored points back off, so reversing a spend never revives expired points.
    """
    account = _existing(conn, membership_id)
    spent = None if account is None else ledger.find(conn, account.id, spend_key)
    if account is None or spent is None or spent[0] != "spend":
        raise NotFound(
            "points.spend_unknown", f"no points spent as {spend_key!r}", field="spend_key"
        )
    spend_entry = spent[1]
    prior = _replay(conn, account, natural_key, kind="reverse_spend", amount=-spend_entry.amount)
    if prior is not None:
        return prior
    earlier = conn.scalar(
        select(loyalty_entries.c.natural_key).where(
            loyalty_entries.c.account_id == account.id,
            loyalty_entries.c.kind == "reverse_spend",
            loyalty_entries.c.detail["spend_entry_id"].as_integer() == spend_entry.entry_id,
        )
    )
    if earlier is not None:
        found = ledger.find(conn, account.id, earlier)
        assert found is not None
        return found[1]
    debt = max(0, -account.balance)
    posted = ledger.append(
        conn,
        account,
        kind="reverse_spend",
        amount=-spend_entry.amount,
        natural_key=natural_key,
        order_id=None,
        detail={"spend_key": spend_key, "spend_entry_id": spend_entry.entry_id},
        actor=actor,
        now=now,
    )
    drawn = conn.execute(
        select(points_draws.c.lot_id, points_draws.c.amount, points_lots.c.expires_on)
        .join(points_lots, points_lots.c.id == points_draws.c.lot_id)
        .where(points_draws.c.entry_id == spend_entry.entry_id)
        .order_by(points_draws.c.lot_id)
    ).all()
    for row in drawn:
        lots.move(conn, posted.entry_id, row.lot_id, -row.amount)
    emptied = set(
        conn.scalars(
            select(loyalty_entries.c.natural_key).where(
                loyalty_entries.c.account_id == account.id,
                loyalty_entries.c.natural_key.in_([f"expire:lot:{row.lot_id}" for row in drawn]),
            )
        )
    )
    dead = [
        row for row in drawn if row.expires_on < now.date() or f"expire:lot:{row.lot_id}" in emptied
    ]
    if dead:
        again = ledger.append(
            conn,
            account,
            kind="expire",
            amount=-sum(row.amount for row in dead),
            natural_key=f"{natural_key}:expire",
            order_id=None,
            detail={"restored_by": natural_key, "lot_ids": [row.lot_id for row in dead]},
            actor=actor,
            now=now,
        )
        for row in dead:
            lots.move(conn, again.entry_id, row.lot_id, row.amount)
    lots.settle(conn, account.id, debt)
    return posted


def expire_due(conn: Connection, *, as_of: dt.date, actor: str, now: dt.datetime) -> int:
    """Expire what remains of every lot with ``expires_on < as_of``, one entry per lot (key
    ``f"expire:lot:{lot_id}"``); the number of lots expired, 0 when run again."""
    due = (points_lots.c.remaining > 0) & (points_lots.c.expires_on < as_of)
    account_ids = conn.scalars(
        select(points_lots.c.account_id).where(due).distinct().order_by(points_lots.c.account_id)
    ).all()
    expired = 0
    for account_id in account_ids:  # ascending, so two runs never wait on each other in a cycle
        account = ledger.lock(conn, account_id)
        due_lots = conn.execute(
            select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_on)
            .where(due, points_lots.c.account_id == account_id)
            .order_by(points_lots.c.expires_on, points_lots.c.id)
        ).all()
        for lot in due_lots:
            posted = ledger.append(
                conn,
                account,
                kind="expire",
                amount=-lot.remaining,
                natural_key=f"expire:lot:{lot.id}",
                order_id=None,
                detail={"lot_id": lot.id, "expires_on": lot.expires_on.isoformat()},
                actor=actor,
                now=now,
            )
            lots.move(conn, posted.entry_id, lot.id, lot.remaining)
            expired += 1
    return expired


def _reversals(conn: Connection, account_id: int, earn_entry_id: int) -> dict[int, tuple[int, int]]:
    """The reversals of an earn so far: entry id -> (points reversed, points clawed back)."""
    rows = conn.execute(
        select(loyalty_entries.c.id, loyalty_entries.c.amount, loyalty_entries.c.detail).where(
            loyalty_entries.c.account_id == account_id,
            loyalty_entries.c.kind == "reverse_earn",
            loyalty_entries.c.detail["earn_entry_id"].as_integer() == earn_entry_id,
        )
    )
    return {row.id: (int(row.detail["points"]), -row.amount) for row in rows}


def _require_positive(points: int) -> None:
    if points <= 0:
        raise InvalidInput(
            "points.not_positive", "points must be a positive number", field="points"
        )


def _existing(conn: Connection, membership_id: int) -> Account | None:
    return ledger.lock_accounts(conn, membership_id, ["points"]).get("points")


def _opened(conn: Connection, membership_id: int, now: dt.datetime) -> Account:
    """The membership's points account, locked, opened on its first credit."""
    return ledger.open_account(conn, membership_id, "points", currency=None, now=now)


def _replay(
    conn: Connection, account: Account, natural_key: str, *, kind: str, amount: int
) -> Posted | None:
    prior = ledger.find(conn, account.id, natural_key)
    if prior is None:
        return None
    if prior[0] != kind or prior[1].amount != amount:
        raise ledger.key_reused(natural_key)
    return prior[1]
