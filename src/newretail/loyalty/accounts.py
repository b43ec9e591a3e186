"""Ledger accounts: a membership's points, wallet and wallet bonus balances, opened on first use and
locked row by row while an entry is posted on them (see :mod:`newretail.loyalty.ledger`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Table, bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from newretail.errors import NotFound
from newretail.oltp.tables import loyalty_accounts, memberships

AccountKind = Literal["points", "wallet", "wallet_bonus"]


@dataclass(slots=True)
class Account:
    """An account row locked by :func:`lock`; ``ledger.append`` keeps ``balance`` current."""

    id: int
    membership_id: int
    kind: str
    currency: str | None
    balance: int


_ACCOUNT_COLUMNS = (
    loyalty_accounts.c.id,
    loyalty_accounts.c.membership_id,
    loyalty_accounts.c.kind,
    loyalty_accounts.c.currency,
    loyalty_accounts.c.balance,
)
# Built once (every order runs it): a statement's construction costs more than its execution.
_LOCK_ACCOUNTS = (
    select(*_ACCOUNT_COLUMNS)
    .where(
        loyalty_accounts.c.membership_id == bindparam("membership_id"),
        loyalty_accounts.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(loyalty_accounts.c.kind)
    .with_for_update()
)
_INSERTS: Mapping[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT of ``table``, the one with ON CONFLICT."""
    return _INSERTS[conn.dialect.name](table)


def account_id(
    conn: Connection,
    membership_id: int,
    kind: AccountKind,
    *,
    currency: str | None,
    now: dt.datetime,
) -> int:
    """The id of the membership's ``kind`` account, created (balance 0) on first use."""
    found = existing_account_id(conn, membership_id, kind)
    if found is not None:
        return found
    # Two first top-ups racing create one account: the loser's insert does nothing.
    created = conn.execute(
        _new_account(conn, membership_id, kind, currency, now)
        .on_conflict_do_nothing(index_elements=["membership_id", "kind"])
        .returning(loyalty_accounts.c.id)
    ).scalar()
    if created is None:
        created = existing_account_id(conn, membership_id, kind)
    if created is None:
        raise _no_membership(membership_id)
    return int(created)


def open_account(
    conn: Connection,
    membership_id: int,
    kind: AccountKind,
    *,
    currency: str | None,
    now: dt.datetime,
) -> Account:
    """The membership's ``kind`` account, locked as by :func:`lock`, created (balance 0) on first
    use."""
    held = lock_accounts(conn, membership_id, [kind]).get(kind)
    if held is not None:
        return held
    # One statement creates and locks it: a racing creator's row is taken over (and locked) by the
    # no-op update, after waiting for it to commit.
    statement = _new_account(conn, membership_id, kind, currency, now)
    row = conn.execute(
        statement.on_conflict_do_update(
            index_elements=["membership_id", "kind"],
            set_={"balance": loyalty_accounts.c.balance},
        ).returning(*_ACCOUNT_COLUMNS)
    ).first()
    if row is None:
        raise _no_membership(membership_id)
    return Account(row.id, row.membership_id, row.kind, row.currency, row.balance)


def _new_account(
    conn: Connection, membership_id: int, kind: str, currency: str | None, now: dt.datetime
) -> Any:
    """INSERT the account (balance 0) if the membership exists: selected from ``memberships``, so
    an unknown membership inserts nothing (and returns no row) instead of failing its foreign key."""
    a = loyalty_accounts.c
    values = select(
        memberships.c.id,
        literal(kind, a.kind.type),
        literal(currency, a.currency.type),
        literal(0, a.balance.type),
        literal(now, a.updated_at.type),
    ).where(memberships.c.id == membership_id)
    return dialect_insert(conn, loyalty_accounts).from_select(
        ["membership_id", "kind", "currency", "balance", "updated_at"], values
    )


def _no_membership(membership_id: int) -> NotFound:
    return NotFound("membership.unknown", f"no membership {membership_id}", field="membership_id")


def existing_account_id(conn: Connection, membership_id: int, kind: AccountKind) -> int | None:
    """The id of the membership's ``kind`` account, or None when it has none yet."""
    return conn.scalar(
        select(loyalty_accounts.c.id).where(
            loyalty_accounts.c.membership_id == membership_id, loyalty_accounts.c.kind == kind
        )
    )


def lock(conn: Connection, account_id: int) -> Account:
    """Lock the account row until the transaction ends (PostgreSQL; SQLite's writers are serial)."""
    row = conn.execute(
        select(*_ACCOUNT_COLUMNS).where(loyalty_accounts.c.id == account_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("ledger.account_unknown", f"no account {account_id}")
    return Account(row.id, row.membership_id, row.kind, row.currency, row.balance)


def lock_accounts(
    conn: Connection, membership_id: int, kinds: Sequence[AccountKind]
) -> dict[str, Account]:
    """Lock those of the membership's ``kinds`` accounts that exist, by kind; one statement, and
    always in kind order ("points" < "wallet" < "wallet_bonus"), so no two callers wait in a cycle."""
    rows = conn.execute(_LOCK_ACCOUNTS, {"membership_id": membership_id, "kinds": list(kinds)})
    return {
        row.kind: Account(row.id, row.membership_id, row.kind, row.currency, row.balance)
        for row in rows
    }
