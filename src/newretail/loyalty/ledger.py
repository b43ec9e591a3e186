"""The balance ledger: every change to a points or wallet balance is one naturally keyed, append-only
entry posted here, and the account's balance moves with it in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, insert, select, update

from newretail.errors import Conflict, NotFound
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import loyalty_accounts, loyalty_entries, memberships

AccountKind = Literal["points", "wallet", "wallet_bonus"]
WALLET_KINDS: frozenset[str] = frozenset({"wallet", "wallet_bonus"})


@dataclass(frozen=True, slots=True)
class Posted:
    """One entry as posted; ``replayed`` when its natural key had been posted before."""

    entry_id: int
    account_id: int
    amount: int
    balance_after: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry as a member's history shows it."""

    id: int
    account_kind: AccountKind
    kind: str
    amount: int
    balance_after: int
    natural_key: str
    order_id: str | None
    detail: Mapping[str, object]
    actor: str
    at: dt.datetime


@dataclass(slots=True)
class Account:
    """An account row locked by :func:`lock`; :func:`append` keeps ``balance`` current."""

    id: int
    membership_id: int
    kind: str
    currency: str | None
    balance: int


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
    if conn.scalar(select(memberships.c.id).where(memberships.c.id == membership_id)) is None:
        raise NotFound(
            "membership.unknown", f"no membership {membership_id}", field="membership_id"
        )
    # Two first top-ups racing create one account: the loser's insert does nothing.
    insert_if_absent(
        conn,
        loyalty_accounts,
        {
            "membership_id": membership_id,
            "kind": kind,
            "currency": currency,
            "balance": 0,
            "updated_at": now,
        },
        unique=["membership_id", "kind"],
    )
    created = existing_account_id(conn, membership_id, kind)
    assert created is not None
    return created


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
        select(
            loyalty_accounts.c.id,
            loyalty_accounts.c.membership_id,
            loyalty_accounts.c.kind,
            loyalty_accounts.c.currency,
            loyalty_accounts.c.balance,
        )
        .where(loyalty_accounts.c.id == account_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound("ledger.account_unknown", f"no account {account_id}")
    return Account(row.id, row.membership_id, row.kind, row.currency, row.balance)


def lock_accounts(
    conn: Connection, membership_id: int, kinds: Sequence[AccountKind]
) -> dict[str, Account]:
    """Lock those of the membership's ``kinds`` accounts that exist, by kind; one statement, and
    always in kind order ("points" < "wallet" < "wallet_bonus"), so no two callers wait in a cycle."""
    rows = conn.execute(
        select(
            loyalty_accounts.c.id,
            loyalty_accounts.c.membership_id,
            loyalty_accounts.c.kind,
            loyalty_accounts.c.currency,
            loyalty_accounts.c.balance,
        )
        .where(
            loyalty_accounts.c.membership_id == membership_id,
            loyalty_accounts.c.kind.in_(list(kinds)),
        )
        .order_by(loyalty_accounts.c.kind)
        .with_for_update()
    )
    return {
        row.kind: Account(row.id, row.membership_id, row.kind, row.currency, row.balance)
        for row in rows
    }


def find(conn: Connection, account_id: int, natural_key: str) -> tuple[str, Posted] | None:
    """The entry posted under ``natural_key`` on the account, with its kind, as a replay."""
    row = conn.execute(
        select(
            loyalty_entries.c.id,
            loyalty_entries.c.kind,
            loyalty_entries.c.amount,
            loyalty_entries.c.balance_after,
        ).where(
            loyalty_entries.c.account_id == account_id,
            loyalty_entries.c.natural_key == natural_key,
        )
    ).first()
    if row is None:
        return None
    return row.kind, Posted(row.id, account_id, row.amount, row.balance_after, replayed=True)


def key_reused(natural_key: str) -> Conflict:
    return Conflict(
        "ledger.key_reused",
        f"the key {natural_key!r} was used before for a different change",
        field="natural_key",
    )


def post(
    conn: Connection,
    account_id: int,
    *,
    kind: str,
    amount: int,
    natural_key: str,
    order_id: str | None,
    detail: Mapping[str, object],
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Post one entry: the account row is locked, a natural key posted before returns that entry
    (``replayed=True``, nothing changes; a different kind or amount under it is ``ledger.key_reused``),
    and a wallet account is never taken below 0 (``wallet.insufficient``)."""
    account = lock(conn, account_id)
    prior = find(conn, account_id, natural_key)
    if prior is not None:
        prior_kind, posted = prior
        if prior_kind != kind or posted.amount != amount:
            raise key_reused(natural_key)
        return posted
    return append(
        conn,
        account,
        kind=kind,
        amount=amount,
        natural_key=natural_key,
        order_id=order_id,
        detail=detail,
        actor=actor,
        now=now,
    )


def append(
    conn: Connection,
    account: Account,
    *,
    kind: str,
    amount: int,
    natural_key: str,
    order_id: str | None,
    detail: Mapping[str, object],
    actor: str,
    now: dt.datetime,
) -> Posted:
    """Write the entry and the new balance on an account the caller has locked and checked for a
    replay of ``natural_key`` (the unique key is the backstop)."""
    balance_after = account.balance + amount
    if account.kind in WALLET_KINDS and balance_after < 0:
        raise Conflict(
            "wallet.insufficient",
            f"the wallet holds {account.balance} and cannot pay {-amount}",
            field="wallet",
        )
    entry_id = conn.execute(
        insert(loyalty_entries)
        .values(
            account_id=account.id,
            kind=kind,
            amount=amount,
            balance_after=balance_after,
            natural_key=natural_key,
            order_id=order_id,
            detail=dict(detail),
            actor=actor,
            at=now,
        )
        .returning(loyalty_entries.c.id)
    ).scalar_one()
    conn.execute(
        update(loyalty_accounts)
        .where(loyalty_accounts.c.id == account.id)
        .values(balance=balance_after, updated_at=now)
    )
    account.balance = balance_after
    return Posted(entry_id, account.id, amount, balance_after, replayed=False)


def balance(conn: Connection, membership_id: int, kind: AccountKind) -> int:
    """The membership's ``kind`` balance (0 when it has no such account)."""
    value = conn.scalar(
        select(loyalty_accounts.c.balance).where(
            loyalty_accounts.c.membership_id == membership_id, loyalty_accounts.c.kind == kind
        )
    )
    return int(value or 0)


def history(
    conn: Connection,
    membership_id: int,
    kinds: Sequence[AccountKind],
    *,
    limit: int,
    before_id: int | None,
) -> list[Entry]:
    """The membership's entries on the ``kinds`` accounts, newest first; page with ``before_id``."""
    query = (
        select(loyalty_entries, loyalty_accounts.c.kind.label("account_kind"))
        .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_entries.c.account_id)
        .where(
            loyalty_accounts.c.membership_id == membership_id,
            loyalty_accounts.c.kind.in_(list(kinds)),
        )
        .order_by(loyalty_entries.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(loyalty_entries.c.id < before_id)
    return [
        Entry(
            id=row.id,
            account_kind=row.account_kind,
            kind=row.kind,
            amount=row.amount,
            balance_after=row.balance_after,
            natural_key=row.natural_key,
            order_id=row.order_id,
            detail=row.detail,
            actor=row.actor,
            at=row.at,
        )
        for row in conn.execute(query)
    ]
