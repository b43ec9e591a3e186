"""Paid periods as records: the period a member bought, read by id, purchase key or membership, and
which month of it a day falls in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select

from newretail.errors import NotFound
from newretail.loyalty.earning import add_months
from newretail.oltp.tables import memberships, paid_periods

_P, _M = paid_periods, memberships


@dataclass(frozen=True, slots=True)
class PaidPeriod:
    """One period bought; ``refund_minor`` is set on cancellation (to the wallet when it was paid
    from the wallet, else refunded through the original payment method, outside newretail)."""

    id: int
    membership_id: int
    scheme_id: str
    person_id: str
    starts_on: dt.date
    ends_on: dt.date
    price_minor: int
    currency: str
    payment_method: str
    status: str
    purchase_key: str
    purchased_at: dt.datetime
    cancelled_at: dt.datetime | None
    refund_minor: int | None


def get_period(conn: Connection, period_id: int) -> PaidPeriod:
    """The period, or NotFound ``loyalty.period_unknown``."""
    row = conn.execute(period_query().where(_P.c.id == period_id)).mappings().first()
    if row is None:
        raise NotFound("loyalty.period_unknown", f"no paid period {period_id}", field="period_id")
    return period_from_row(row)


def periods_of(conn: Connection, membership_id: int) -> list[PaidPeriod]:
    """The membership's periods, earliest first."""
    query = period_query().where(_P.c.membership_id == membership_id)
    return [
        period_from_row(row)
        for row in conn.execute(query.order_by(_P.c.starts_on, _P.c.id)).mappings()
    ]


def month_of(period: PaidPeriod, day: dt.date) -> int:
    """Which month of the period ``day`` falls in (1 for its first month)."""
    start = period.starts_on
    months = (day.year - start.year) * 12 + day.month - start.month
    if add_months(start, months) > day:
        months -= 1
    return months + 1


def period_by_key(conn: Connection, purchase_key: str) -> PaidPeriod | None:
    row = conn.execute(period_query().where(_P.c.purchase_key == purchase_key)).mappings().first()
    return None if row is None else period_from_row(row)


def period_query() -> Select[Any]:
    return select(_P, _M.c.scheme_id, _M.c.person_id).join(_M, _M.c.id == _P.c.membership_id)


def period_from_row(row: Any) -> PaidPeriod:
    return PaidPeriod(
        id=int(row["id"]),
        membership_id=int(row["membership_id"]),
        scheme_id=row["scheme_id"],
        person_id=row["person_id"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        price_minor=int(row["price_minor"]),
        currency=row["currency"],
        payment_method=row["payment_method"],
        status=row["status"],
        purchase_key=row["purchase_key"],
        purchased_at=row["purchased_at"],
        cancelled_at=row["cancelled_at"],
        refund_minor=None if row["refund_minor"] is None else int(row["refund_minor"]),
    )
