"""The paid membership: buying and renewing a period, its monthly vouchers, and cancelling with a
pro-rata refund of the whole days not yet used.

Dates are UTC calendar days of ``now``. A period covers ``starts_on`` to ``ends_on`` inclusive; month
``n`` of it starts ``n - 1`` calendar months after ``starts_on``. Cancelling stops later vouchers;
vouchers already issued stay with the member (they were part of the days paid for).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from newretail.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.loyalty import wallet
from newretail.loyalty.earning import add_months
from newretail.loyalty.memberships import Membership, add_event, join, membership_of
from newretail.loyalty.paid_vouchers import issue_month
from newretail.loyalty.paid_vouchers import issue_monthly_vouchers as issue_monthly_vouchers
from newretail.loyalty.periods import PaidPeriod as PaidPeriod
from newretail.loyalty.periods import get_period as get_period
from newretail.loyalty.periods import period_by_key, period_from_row, period_query
from newretail.loyalty.periods import periods_of as periods_of
from newretail.loyalty.rules import PaidRules
from newretail.loyalty.schemes import Scheme, get_scheme, scheme_for_channel
from newretail.oltp.tables import membership_events, memberships, paid_periods
from newretail.security.audit import Action, record
from newretail.security.principal import Principal
from newretail.security.roles import Permission

# Platform payments settle through a delivery platform, which does not sell the membership.
PAYMENT_METHODS = ("wechat_pay", "alipay", "card", "cash", "stored_value")
_P, _M = paid_periods, memberships
# Who may cancel a period and refund it: the selling channel, or after-sales staff.
CANCEL_PERMISSIONS = (Permission.LOYALTY_TRANSACT, Permission.ORDERS_REFUND)
_MAX_KEY = 120


def buy_paid(
    conn: Connection,
    scheme_id: str,
    person_id: str,
    *,
    payment_method: str,
    purchase_key: str,
    actor: str,
    now: dt.datetime,
    channel: str | None = None,
) -> PaidPeriod:
    """Buy a period of a paid scheme: a first purchase (or one after a lapse) starts today, a renewal
    of a running period starts the day after it ends. The first month's vouchers of a period that
    starts today are issued at once; the daily job issues the rest. A retry with the same
    ``purchase_key`` returns the period bought the first time.

    Paid with ``stored_value``, the money comes from the wallet of the person's membership of the
    paid scheme when that scheme has a wallet, else from the person's membership of the free scheme
    (same currency) covering ``channel`` (default: the paid scheme's first channel).
    """
    if not 0 < len(purchase_key) <= _MAX_KEY:
        raise InvalidInput(
            "loyalty.bad_purchase_key", f"give 1-{_MAX_KEY} characters", field="purchase_key"
        )
    bought = period_by_key(conn, purchase_key)
    if bought is not None:
        return _replayed(bought, scheme_id, person_id)
    scheme, paid = _paid_scheme(conn, scheme_id)
    if payment_method not in PAYMENT_METHODS:
        raise InvalidInput(
            "loyalty.bad_payment_method",
            f"pay with one of {', '.join(PAYMENT_METHODS)}",
            field="payment_method",
        )
    channel = channel or scheme.rules.channels[0]
    payer = (
        _wallet_payer(conn, scheme, person_id, channel)
        if payment_method == "stored_value"
        else None
    )
    membership = join(conn, scheme, person_id, channel=channel, actor=actor, now=now)
    # Two purchases for one member queue here, so both cannot start on the same day.
    conn.execute(select(_M.c.id).where(_M.c.id == membership.id).with_for_update()).one()
    bought = period_by_key(conn, purchase_key)
    if bought is not None:
        return _replayed(bought, scheme_id, person_id)
    today = now.astimezone(dt.UTC).date()
    starts_on, kind = _next_start(conn, membership.id, today)
    pay_key = f"paid:{purchase_key}"
    if payer is not None:
        wallet.pay(
            conn, payer, paid.price_minor, natural_key=pay_key, order_id=None, actor=actor, now=now
        )
    period_id = conn.execute(
        insert(_P)
        .values(
            membership_id=membership.id,
            starts_on=starts_on,
            ends_on=add_months(starts_on, paid.period_months) - dt.timedelta(days=1),
            price_minor=paid.price_minor,
            currency=scheme.currency,
            payment_method=payment_method,
            status="active",
            purchase_key=purchase_key,
            purchased_at=now,
        )
        .returning(_P.c.id)
    ).scalar_one()
    period = get_period(conn, int(period_id))
    detail: dict[str, object] = {
        "period_id": period.id,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "price_minor": period.price_minor,
        "payment_method": payment_method,
        "wallet_membership_id": payer,
        "pay_key": pay_key if payer is not None else None,
    }
    add_event(
        conn,
        membership.id,
        kind=kind,
        natural_key=f"paid:{period.id}",
        detail=detail,
        actor=actor,
        now=now,
    )
    if period.starts_on <= today:
        issue_month(conn, paid, period, 1, actor=actor, now=now)
    return period


def require_cancel_permission(principal: Principal) -> None:
    """Forbidden unless the principal may cancel a paid period: the channel that sells it
    (``loyalty.transact``) or after-sales staff (``orders.refund``), since a cancellation hands
    money back like a refund. Marketers, who design the schemes, may not."""
    if not any(principal.can(permission) for permission in CANCEL_PERMISSIONS):
        raise Forbidden(
            "auth.permission_denied",
            f"role {principal.role} may not cancel paid membership "
            f"(it takes {' or '.join(CANCEL_PERMISSIONS)})",
        )


def cancel_paid(
    conn: Connection, period_id: int, *, actor: Principal, now: dt.datetime
) -> PaidPeriod:
    """Cancel a period (see :func:`require_cancel_permission` for who may) and refund
    ``price * unused_days // period_days``, the unused days being the whole days after today (all
    of them for a period not yet begun).

    Paid from the wallet, the refund goes back to it; otherwise it is recorded on the period for the
    payment provider to return. Cancelling again changes nothing; an ended period cannot be cancelled
    (Conflict ``loyalty.paid_ended``).
    """
    require_cancel_permission(actor)
    row = conn.execute(period_query().where(_P.c.id == period_id).with_for_update(of=_P)).first()
    if row is None:
        raise NotFound("loyalty.period_unknown", f"no paid period {period_id}", field="period_id")
    period = period_from_row(row._mapping)
    if period.status == "cancelled":
        return period
    today = now.astimezone(dt.UTC).date()
    if today > period.ends_on:
        raise Conflict("loyalty.paid_ended", f"paid period {period_id} has ended")
    days = (period.ends_on - period.starts_on).days + 1
    unused = days if today < period.starts_on else (period.ends_on - today).days
    refund = period.price_minor * unused // days
    changed = conn.execute(
        update(_P)
        .where(_P.c.id == period_id, _P.c.status == "active")
        .values(status="cancelled", cancelled_at=now, refund_minor=refund)
    ).rowcount
    if changed != 1:
        return get_period(conn, period_id)
    bought = _bought_detail(conn, period)
    payer = bought.get("wallet_membership_id")
    natural_key = f"paid_cancel:{period_id}"
    if isinstance(payer, int) and refund > 0:
        wallet.refund(
            conn,
            payer,
            refund,
            pay_key=str(bought["pay_key"]),
            natural_key=natural_key,
            order_id=None,
            actor=actor.actor,
            now=now,
        )
    refund_to = "wallet" if isinstance(payer, int) else "external"
    detail: dict[str, Any] = {
        "period_id": period_id,
        "unused_days": unused,
        "period_days": days,
        "refund_minor": refund,
        "refund_to": refund_to,
    }
    add_event(
        conn,
        period.membership_id,
        kind="paid_cancelled",
        natural_key=natural_key,
        detail=detail,
        actor=actor.actor,
        now=now,
    )
    record(
        conn,
        actor=actor,
        action=Action.PAID_CANCELLED,
        at=now,
        target_type="paid_period",
        target_id=str(period_id),
        detail={"membership_id": period.membership_id, **detail},
    )
    return get_period(conn, period_id)


def _paid_scheme(conn: Connection, scheme_id: str) -> tuple[Scheme, PaidRules]:
    scheme = get_scheme(conn, scheme_id)
    if scheme.rules.paid is None:
        raise InvalidInput(
            "loyalty.scheme_not_paid", f"scheme {scheme_id} is not sold", field="scheme_id"
        )
    if not scheme.active:
        raise Conflict("loyalty.scheme_inactive", f"scheme {scheme_id} is not on sale")
    return scheme, scheme.rules.paid


def _wallet_payer(conn: Connection, scheme: Scheme, person_id: str, channel: str) -> int:
    """The membership whose wallet pays (see :func:`buy_paid`), or Conflict ``loyalty.no_wallet``."""
    holder: Membership | None = None
    if scheme.rules.wallet is not None:
        holder = membership_of(conn, scheme.id, person_id)
    else:
        free = scheme_for_channel(conn, channel, currency=scheme.currency)
        if free is not None and free.rules.wallet is not None:
            holder = membership_of(conn, free.id, person_id)
    if holder is None:
        raise Conflict(
            "loyalty.no_wallet",
            f"the person has no {scheme.currency} wallet to pay from",
            field="payment_method",
        )
    return holder.id


def _next_start(conn: Connection, membership_id: int, today: dt.date) -> tuple[dt.date, str]:
    last = conn.execute(
        select(_P.c.starts_on, _P.c.ends_on)
        .where(_P.c.membership_id == membership_id, _P.c.status == "active")
        .order_by(_P.c.ends_on.desc())
        .limit(1)
    ).first()
    if last is None or last.ends_on < today:
        return today, "paid_started"
    if last.starts_on > today:
        raise Conflict(
            "loyalty.paid_already_renewed",
            "the next period is bought already; renew once it has begun",
        )
    return last.ends_on + dt.timedelta(days=1), "paid_renewed"


def _replayed(period: PaidPeriod, scheme_id: str, person_id: str) -> PaidPeriod:
    if (period.scheme_id, period.person_id) != (scheme_id, person_id):
        raise Conflict(
            "loyalty.purchase_key_reused",
            "this purchase key was used for another purchase",
            field="purchase_key",
        )
    return period


def _bought_detail(conn: Connection, period: PaidPeriod) -> dict[str, object]:
    e = membership_events
    detail = conn.execute(
        select(e.c.detail).where(
            e.c.membership_id == period.membership_id, e.c.natural_key == f"paid:{period.id}"
        )
    ).scalar_one()
    return dict(detail)
