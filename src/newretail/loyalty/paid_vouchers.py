"""The paid membership's monthly vouchers: each month of an active period, every voucher of the
scheme's ``monthly_vouchers`` once, and a ``paid_vouchers`` event marking the month done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from newretail.errors import Conflict
from newretail.loyalty.coupons import issue
from newretail.loyalty.memberships import add_event
from newretail.loyalty.periods import PaidPeriod, month_of, period_from_row, period_query
from newretail.loyalty.rules import PaidRules
from newretail.loyalty.schemes import Scheme, get_scheme
from newretail.oltp.tables import membership_events, paid_periods

# A template a marketer paused (or whose window closed) is skipped, not an error for the whole run.
_SKIPPED = frozenset({"coupon_template.inactive", "coupon_template.ended"})
_CHUNK = 1_000


def issue_monthly_vouchers(
    conn: Connection, *, as_of: dt.date, actor: str, now: dt.datetime
) -> int:
    """Issue every active period's vouchers for its month containing ``as_of``; how many coupons were
    issued. Run daily: a month already done is passed over at the cost of one lookup, and each
    coupon's issue key ``paid:<period>:m<n>:<k>`` keeps even a re-run of a month from issuing twice.
    """
    p = paid_periods
    query = (
        period_query()
        .where(p.c.status == "active", p.c.starts_on <= as_of, p.c.ends_on >= as_of)
        .order_by(p.c.id)
    )
    periods = [period_from_row(row) for row in conn.execute(query).mappings()]
    schemes: dict[str, Scheme] = {}
    issued = 0
    for start in range(0, len(periods), _CHUNK):
        chunk = {_done_key(q, month_of(q, as_of)): q for q in periods[start : start + _CHUNK]}
        for key in _months_done(conn, chunk):
            del chunk[key]
        for period in chunk.values():
            if period.scheme_id not in schemes:
                schemes[period.scheme_id] = get_scheme(conn, period.scheme_id)
            paid = schemes[period.scheme_id].rules.paid
            if paid is not None:
                n = month_of(period, as_of)
                issued += issue_month(conn, paid, period, n, actor=actor, now=now)
    return issued


def issue_month(
    conn: Connection, paid: PaidRules, period: PaidPeriod, n: int, *, actor: str, now: dt.datetime
) -> int:
    """Issue month ``n``'s vouchers of the period; how many coupons were new. When no template was
    skipped the month is marked done; otherwise a later run that month issues what was skipped."""
    issued = 0
    complete = True
    for voucher in paid.monthly_vouchers:
        for k in range(1, voucher.count + 1):
            try:
                result = issue(
                    conn,
                    voucher.template_id,
                    [period.person_id],
                    issue_key=f"paid:{period.id}:m{n}:{k}",
                    actor=actor,
                    now=now,
                )
            except Conflict as error:
                if error.code not in _SKIPPED:
                    raise
                complete = False
                break
            issued += result.issued
    if complete:
        add_event(
            conn,
            period.membership_id,
            kind="paid_vouchers",
            natural_key=_done_key(period, n),
            detail={"period_id": period.id, "month": n, "issued": issued},
            actor=actor,
            now=now,
        )
    return issued


def _done_key(period: PaidPeriod, n: int) -> str:
    return f"vouchers:{period.id}:m{n}"


def _months_done(conn: Connection, chunk: dict[str, PaidPeriod]) -> list[str]:
    e = membership_events
    query = select(e.c.natural_key).where(
        e.c.membership_id.in_({q.membership_id for q in chunk.values()}),
        e.c.natural_key.in_(list(chunk)),
    )
    return list(conn.execute(query).scalars())
