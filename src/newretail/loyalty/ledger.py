"""The balance ledger: every change to a points or wallet balance is one naturally keyed, append-only
entry posted here, and the account's balance moves with it in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from newretail.errors import Conflict
from newretail.loyalty.accounts import (
    Account,
    AccountKind,
    account_id,
    dialect_insert,
    existing_account_id,
    lock,
    lock_accounts,
    open_account,
)
from newretail.oltp.tables import loyalty_accounts, loyalty_entries

__all__ = [
    "WALLET_KINDS",
    "Account",
    "AccountKind",
    "Entry",
    "Posted",
    "Posting",
    "account_id",
    "append",
    "append_many",
    "append_once",
    "balance",
    "existing_account_id",
    "find",
    "find_many",
    "history",
    "key_reused",
    "lock",
    "lock_accounts",
    "open_account",
    "post",
]

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


@dataclass(frozen=True, slots=True)
class Posting:
    """An entry to write on a locked account (see :func:`append_many`)."""

    account: Account
    kind: str
    amount: int
    natural_key: str
    order_id: str | None
    detail: Mapping[str, object]


# Built once: the statements every posting runs (the entry ids come back by natural key).
_INSERT_ENTRY = insert(loyalty_entries).returning(
    loyalty_entries.c.id, loyalty_entries.c.account_id, loyalty_entries.c.natural_key
)
_FIND = select(
    loyalty_entries.c.id,
    loyalty_entries.c.account_id,
    loyalty_entries.c.kind,
    loyalty_entries.c.amount,
    loyalty_entries.c.balance_after,
).where(
    loyalty_entries.c.account_id.in_(bindparam("account_ids", expanding=True)),
    loyalty_entries.c.natural_key == bindparam("natural_key"),
)
# Per dialect: the entry unless its natural key was posted on the account.
_INSERT_NEW_ENTRY: dict[str, Any] = {}
_UPDATE_BALANCE = (
    update(loyalty_accounts)
    .where(loyalty_accounts.c.id == bindparam("account"))
    .values(balance=bindparam("new_balance"), updated_at=bindparam("now"))
)


def find(conn: Connection, account_id: int, natural_key: str) -> tuple[str, Posted] | None:
    """The entry posted under ``natural_key`` on the account, with its kind, as a replay."""
    return find_many(conn, [account_id], natural_key).get(account_id)


def find_many(
    conn: Connection, account_ids: Sequence[int], natural_key: str
) -> dict[int, tuple[str, Posted]]:
    """:func:`find` on several accounts at once, by account id (those without such an entry left
    out)."""
    rows = conn.execute(_FIND, {"account_ids": list(account_ids), "natural_key": natural_key})
    return {
        row.account_id: (
            row.kind,
            Posted(row.id, row.account_id, row.amount, row.balance_after, replayed=True),
        )
        for row in rows
    }


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
    return append_once(
        conn,
        lock(conn, account_id),
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
    posting = Posting(account, kind, amount, natural_key, order_id, detail)
    return append_many(conn, [posting], actor=actor, now=now)[0]


def append_many(
    conn: Connection, postings: Sequence[Posting], *, actor: str, now: dt.datetime
) -> list[Posted]:
    """:func:`append` each posting, in order, in one INSERT of the entries and one UPDATE of the
    balances; a wallet account that one would take below 0 raises before anything is written."""
    after = _balances_after(postings)
    rows = [_entry_row(posting, balance, actor, now) for posting, balance in after]
    written = conn.execute(_INSERT_ENTRY, rows).all()
    entry_ids = {(row.account_id, row.natural_key): row.id for row in written}
    return _update_balances(conn, after, entry_ids, now)


def append_once(
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
    """:func:`append` on a locked account unless ``natural_key`` was posted on it before: then that
    entry, replayed (``ledger.key_reused`` if it was another kind or amount). The unique key finds a
    replay as the entry is inserted, so no read goes first."""
    posting = Posting(account, kind, amount, natural_key, order_id, detail)
    after = _balances_after([posting])
    statement = _INSERT_NEW_ENTRY.get(conn.dialect.name)
    if statement is None:
        statement = _INSERT_NEW_ENTRY[conn.dialect.name] = (
            dialect_insert(conn, loyalty_entries)
            .on_conflict_do_nothing(index_elements=["account_id", "natural_key"])
            .returning(loyalty_entries.c.id)
        )
    entry_id = conn.execute(statement, _entry_row(posting, after[0][1], actor, now)).scalar()
    if entry_id is None:
        prior = find(conn, account.id, natural_key)
        assert prior is not None
        if prior[0] != kind or prior[1].amount != amount:
            raise key_reused(natural_key)
        return prior[1]
    return _update_balances(conn, after, {(account.id, natural_key): entry_id}, now)[0]


def _balances_after(postings: Sequence[Posting]) -> list[tuple[Posting, int]]:
    """Each posting with its account's balance after it; ``wallet.insufficient`` for one that
    takes a wallet account below 0."""
    held: dict[int, int] = {}
    after = []
    for posting in postings:
        account = posting.account
        before = held.get(account.id, account.balance)
        balance_after = before + posting.amount
        if account.kind in WALLET_KINDS and balance_after < 0:
            raise Conflict(
                "wallet.insufficient",
                f"the wallet holds {before} and cannot pay {-posting.amount}",
                field="wallet",
            )
        held[account.id] = balance_after
        after.append((posting, balance_after))
    return after


def _entry_row(
    posting: Posting, balance_after: int, actor: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "account_id": posting.account.id,
        "kind": posting.kind,
        "amount": posting.amount,
        "balance_after": balance_after,
        "natural_key": posting.natural_key,
        "order_id": posting.order_id,
        "detail": dict(posting.detail),
        "actor": actor,
        "at": now,
    }


def _update_balances(
    conn: Connection,
    after: Sequence[tuple[Posting, int]],
    entry_ids: Mapping[tuple[int, str], int],
    now: dt.datetime,
) -> list[Posted]:
    final = {posting.account.id: balance for posting, balance in after}
    conn.execute(
        _UPDATE_BALANCE,
        [{"account": id_, "new_balance": balance, "now": now} for id_, balance in final.items()],
    )
    posted = []
    for posting, balance in after:
        posting.account.balance = final[posting.account.id]
        key = (posting.account.id, posting.natural_key)
        posted.append(Posted(entry_ids[key], posting.account.id, posting.amount, balance, False))
    return posted


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
