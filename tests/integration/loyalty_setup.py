"""Rows the ledger tests need under their accounts: one scheme and a fresh membership per test,
inserted directly (the ledger needs nothing of a scheme but its row)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from sqlalchemy import Connection, Engine, func, insert, select

from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import (
    coupon_events,
    coupon_templates,
    coupons,
    loyalty_accounts,
    loyalty_entries,
    loyalty_schemes,
    memberships,
)

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
SCHEME = "test-ledger"
_people = itertools.count()


def new_membership(engine: Engine, *, currency: str = "CNY") -> int:
    """A new membership of a new person in the test scheme (created on first use); its id."""
    with engine.begin() as conn:
        insert_if_absent(
            conn,
            loyalty_schemes,
            {
                "id": f"{SCHEME}-{currency.lower()}",
                "name": "测试会员",
                "name_en": "Test membership",
                "kind": "free",
                "currency": currency,
                "rules": {},
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            },
            unique=["id"],
        )
        membership_id: int = conn.execute(
            insert(memberships)
            .values(
                scheme_id=f"{SCHEME}-{currency.lower()}",
                person_id=f"p{next(_people)}-{uuid.uuid4().hex[:12]}",
                tier="basic",
                tier_since=NOW,
                status="active",
                joined_at=NOW,
                joined_channel="app",
            )
            .returning(memberships.c.id)
        ).scalar_one()
        return membership_id


def new_coupon(engine: Engine, *, status: str, events: list[str]) -> str:
    """A coupon in ``status`` with ``events`` (kinds, oldest first) in its ledger; its id."""
    coupon_id = f"c-{uuid.uuid4().hex[:16]}"
    with engine.begin() as conn:
        insert_if_absent(
            conn,
            coupon_templates,
            {
                "id": "test-ledger-template",
                "name": "满30减5",
                "name_en": "5 off 30",
                "kind": "amount_off",
                "currency": "CNY",
                "amount_off_minor": 500,
                "threshold_minor": 3000,
                "scope": {},
                "valid_days": 30,
                "issued_count": 0,
                "stacks_with_tier": True,
                "status": "active",
                "created_by": "test",
                "created_at": NOW,
                "updated_at": NOW,
            },
            unique=["id"],
        )
        conn.execute(
            insert(coupons).values(
                id=coupon_id,
                template_id="test-ledger-template",
                person_id="p-coupon",
                status=status,
                issue_key=coupon_id,
                issued_at=NOW,
                valid_from=NOW,
                expires_at=NOW + dt.timedelta(days=30),
            )
        )
        for number, kind in enumerate(events):
            conn.execute(
                insert(coupon_events).values(
                    coupon_id=coupon_id,
                    kind=kind,
                    natural_key=f"{kind}:{number}",
                    actor="test",
                    at=NOW,
                )
            )
    return coupon_id


def entry_count(conn: Connection, membership_id: int) -> int:
    """How many ledger entries the membership's accounts hold."""
    return int(
        conn.scalar(
            select(func.count())
            .select_from(loyalty_entries)
            .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_entries.c.account_id)
            .where(loyalty_accounts.c.membership_id == membership_id)
        )
        or 0
    )
