"""The daily tier evaluation: each member of an active scheme takes the highest tier its spend (or
points earned) over the rolling window reaches, up or down, with one event per move and day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Subquery, case, func, select, update

from newretail.loyalty.memberships import add_event
from newretail.loyalty.schemes import Scheme, list_schemes
from newretail.oltp.tables import loyalty_accounts, loyalty_entries, memberships, orders

_M = memberships


@dataclass(frozen=True, slots=True)
class TierRun:
    """What one evaluation did: members looked at, moved up and moved down."""

    as_of: dt.date
    evaluated: int
    up: int
    down: int


def evaluate_tiers(conn: Connection, *, as_of: dt.date, actor: str, now: dt.datetime) -> TierRun:
    """Move every active member of every active scheme to the tier its metric reaches.

    The window is the scheme's ``tier_window_days`` whole UTC days before ``as_of`` (so ``as_of``
    itself, still under way, does not count). Spend is ``paid_minor - refunded_minor`` of the orders
    placed in it under the membership; points are those earned in it less earns reversed in it. Each
    move writes a ``tier_up`` or ``tier_down`` event keyed ``tier:<as_of>``: a re-run for the same
    day moves nobody twice, and nothing when the data has not changed.
    """
    evaluated = up = down = 0
    for scheme in list_schemes(conn):
        if not scheme.active:
            continue
        evaluated += _count_members(conn, scheme.id)
        if len(scheme.rules.tiers) == 1:
            continue
        order = {tier.id: i for i, tier in enumerate(scheme.rules.tiers)}
        for membership_id, tier, value, target in _moves(conn, scheme, as_of):
            direction = "tier_up" if order.get(tier, -1) < order[target] else "tier_down"
            detail: dict[str, object] = {
                "from": tier,
                "to": target,
                "metric": scheme.rules.tier_metric,
                "value": int(value),
                "window_days": scheme.rules.tier_window_days,
            }
            natural_key = f"tier:{as_of.isoformat()}"
            if not add_event(
                conn,
                membership_id,
                kind=direction,
                natural_key=natural_key,
                detail=detail,
                actor=actor,
                now=now,
            ):
                continue
            conn.execute(
                update(_M)
                .where(_M.c.id == membership_id, _M.c.tier == tier)
                .values(tier=target, tier_since=now)
            )
            if direction == "tier_up":
                up += 1
            else:
                down += 1
    return TierRun(as_of=as_of, evaluated=evaluated, up=up, down=down)


def window(scheme: Scheme, as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The scheme's rolling window before ``as_of``, as UTC instants ``[start, end)``."""
    end = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    return end - dt.timedelta(days=scheme.rules.tier_window_days), end


def _count_members(conn: Connection, scheme_id: str) -> int:
    query = select(func.count()).where(_M.c.scheme_id == scheme_id, _M.c.status == "active")
    return int(conn.execute(query).scalar_one())


def _moves(conn: Connection, scheme: Scheme, as_of: dt.date) -> list[tuple[int, str, int, str]]:
    """(membership, tier now, metric value, tier reached) for members whose tier should change."""
    metric = _metric(scheme, as_of)
    value = func.coalesce(metric.c.value, 0)
    tiers = scheme.rules.tiers
    # Highest threshold first: the first one reached is the member's tier.
    target: ColumnElement[str] = case(
        *[(value >= t.threshold, t.id) for t in reversed(tiers[1:])], else_=tiers[0].id
    )
    query = (
        select(_M.c.id, _M.c.tier, value, target)
        .select_from(_M.outerjoin(metric, metric.c.membership_id == _M.c.id))
        .where(_M.c.scheme_id == scheme.id, _M.c.status == "active", target != _M.c.tier)
        .order_by(_M.c.id)
    )
    return [(int(i), str(t), int(v), str(g)) for i, t, v, g in conn.execute(query)]


def _metric(scheme: Scheme, as_of: dt.date) -> Subquery:
    start, end = window(scheme, as_of)
    if scheme.rules.tier_metric == "spend":
        o = orders
        return (
            select(
                o.c.membership_id.label("membership_id"),
                func.sum(o.c.paid_minor - o.c.refunded_minor).label("value"),
            )
            .select_from(o)
            .join(_M, _M.c.id == o.c.membership_id)
            .where(_M.c.scheme_id == scheme.id, o.c.placed_at >= start, o.c.placed_at < end)
            .group_by(o.c.membership_id)
            .subquery()
        )
    a, e = loyalty_accounts, loyalty_entries
    # A reversal takes away all the points it reversed, also those expiry had absorbed (its entry
    # claws back only the rest): a refunded purchase no longer counts towards a tier.
    signed = case((e.c.kind == "earn", e.c.amount), else_=-e.c.detail["points"].as_integer())
    return (
        select(a.c.membership_id.label("membership_id"), func.sum(signed).label("value"))
        .select_from(e)
        .join(a, a.c.id == e.c.account_id)
        .join(_M, _M.c.id == a.c.membership_id)
        .where(
            _M.c.scheme_id == scheme.id,
            a.c.kind == "points",
            e.c.kind.in_(("earn", "reverse_earn")),
            e.c.at >= start,
            e.c.at < end,
        )
        .group_by(a.c.membership_id)
        .subquery()
    )
