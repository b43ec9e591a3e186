"""The stored-value wallet: money topped up (principal) and the top-up bonus, two ledger accounts of a
membership that a payment draws in proportion and a refund fills back as that payment drew them.

Every operation locks the principal account before the bonus one, so two never wait on each other in
a cycle; neither account goes below 0 (checked before writing, the table's CHECK is the backstop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty import ledger
from newretail.loyalty.ledger import Account
from newretail.oltp.tables import loyalty_accounts, loyalty_entries, loyalty_schemes, memberships


@dataclass(frozen=True, slots=True)
class WalletMove:
    """How much of a top-up, payment or refund fell on principal and on bonus."""

    principal_minor: int
    bonus_minor: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class WalletBalance:
    principal_minor: int
    bonus_minor: int
    currency: str


def split_payment(amount_minor: int, *, principal_minor: int, bonus_minor: int) -> tuple[int, int]:
    """(principal, bonus) to draw for a payment, in proportion to the balances; the rounding goes to
    principal.

    >>> split_payment(100, principal_minor=300, bonus_minor=100)
    (75, 25)
    >>> split_payment(10, principal_minor=2, bonus_minor=1)
    (7, 3)
    """
    total = principal_minor + bonus_minor
    bonus = amount_minor * bonus_minor // total if total else 0
    return amount_minor - bonus, bonus


def split_refund(
    amount_minor: int,
    *,
    paid: tuple[int, int],
    refunded: tuple[int, int],
) -> tuple[int, int]:
    """(principal, bonus) to give back of a payment that drew ``paid`` and has had ``refunded`` given
    back: the bonus share of everything refunded so far is the payment's bonus share rounded down, so
    refunds in any number of parts add up to exactly what the payment drew.

    >>> split_refund(50, paid=(75, 25), refunded=(0, 0))
    (38, 12)
    >>> split_refund(50, paid=(75, 25), refunded=(38, 12))
    (37, 13)
    """
    total = sum(paid)
    so_far = sum(refunded) + amount_minor
    bonus = so_far * paid[1] // total - refunded[1]
    return amount_minor - bonus, bonus


def top_up(
    conn: Connection,
    membership_id: int,
    amount_minor: int,
    *,
    bonus_minor: int,
    currency: str,
    natural_key: str,
    payment_method: str,
    actor: str,
    now: dt.datetime,
) -> WalletMove:
    """Add ``amount_minor`` paid by ``payment_method`` to principal and ``bonus_minor`` to bonus."""
    _require_positive(amount_minor, "amount_minor")
    if bonus_minor < 0:
        raise InvalidInput(
            "wallet.negative_bonus", "a bonus cannot be negative", field="bonus_minor"
        )
    principal, bonus = (
        ledger.open_account(conn, membership_id, kind, currency=currency, now=now)
        for kind in ("wallet", "wallet_bonus")
    )
    if principal.currency != currency:
        raise InvalidInput(
            "wallet.currency_mismatch",
            f"the wallet holds {principal.currency}, not {currency}",
            field="currency",
        )
    prior = _prior(conn, principal, bonus, natural_key, kinds=("topup", "bonus"))
    if prior is not None:
        if prior.principal_minor != amount_minor or prior.bonus_minor != bonus_minor:
            raise ledger.key_reused(natural_key)
        return prior
    detail = {"payment_method": payment_method}
    _append(
        conn,
        [(principal, "topup", amount_minor), (bonus, "bonus", bonus_minor)],
        natural_key,
        None,
        detail,
        actor,
        now,
    )
    return WalletMove(amount_minor, bonus_minor, replayed=False)


def pay(
    conn: Connection,
    membership_id: int,
    amount_minor: int,
    *,
    natural_key: str,
    order_id: str | None,
    actor: str,
    now: dt.datetime,
) -> WalletMove:
    """Pay ``amount_minor`` from principal and bonus in proportion to their balances
    (:func:`split_payment`); ``wallet.insufficient`` (nothing written) when they hold less."""
    _require_positive(amount_minor, "amount_minor")
    principal, bonus = _lock(conn, membership_id)
    if principal is not None:
        prior = _prior(conn, principal, bonus, natural_key, kinds=("pay", "pay"))
        if prior is not None:
            if prior.principal_minor + prior.bonus_minor != -amount_minor:
                raise ledger.key_reused(natural_key)
            return WalletMove(-prior.principal_minor, -prior.bonus_minor, replayed=True)
    held = (principal.balance if principal else 0, bonus.balance if bonus else 0)
    if principal is None or sum(held) < amount_minor:
        raise Conflict(
            "wallet.insufficient",
            f"the wallet holds {sum(held)} and cannot pay {amount_minor}",
            field="wallet",
        )
    from_principal, from_bonus = split_payment(
        amount_minor, principal_minor=held[0], bonus_minor=held[1]
    )
    _append(
        conn,
        [(principal, "pay", -from_principal), (bonus, "pay", -from_bonus)],
        natural_key,
        order_id,
        {},
        actor,
        now,
    )
    return WalletMove(from_principal, from_bonus, replayed=False)


def refund(
    conn: Connection,
    membership_id: int,
    amount_minor: int,
    *,
    pay_key: str,
    natural_key: str,
    order_id: str | None,
    actor: str,
    now: dt.datetime,
) -> WalletMove:
    """Give back ``amount_minor`` of the payment ``pay_key`` as it drew principal and bonus
    (:func:`split_refund`); never more than it paid less its earlier refunds."""
    _require_positive(amount_minor, "amount_minor")
    principal, bonus = _lock(conn, membership_id)
    paid = (
        None if principal is None else _prior(conn, principal, bonus, pay_key, kinds=("pay", "pay"))
    )
    if principal is None or paid is None:
        raise NotFound("wallet.payment_unknown", f"no wallet payment {pay_key!r}", field="pay_key")
    prior = _prior(conn, principal, bonus, natural_key, kinds=("refund", "refund"))
    if prior is not None:
        if prior.principal_minor + prior.bonus_minor != amount_minor:
            raise ledger.key_reused(natural_key)
        return prior
    drawn = (-paid.principal_minor, -paid.bonus_minor)
    refunded = (_refunded(conn, principal, pay_key), _refunded(conn, bonus, pay_key))
    if sum(refunded) + amount_minor > sum(drawn):
        raise InvalidInput(
            "wallet.refund_exceeds_payment",
            f"{pay_key!r} paid {sum(drawn)}, {sum(refunded)} refunded already",
            field="amount_minor",
        )
    to_principal, to_bonus = split_refund(amount_minor, paid=drawn, refunded=refunded)
    detail = {"pay_key": pay_key}
    _append(
        conn,
        [(principal, "refund", to_principal), (bonus, "refund", to_bonus)],
        natural_key,
        order_id,
        detail,
        actor,
        now,
    )
    return WalletMove(to_principal, to_bonus, replayed=False)


def balances(conn: Connection, membership_id: int) -> WalletBalance:
    """Principal and bonus held; the currency is the scheme's until the first top-up."""
    rows = {
        row.kind: row
        for row in conn.execute(
            select(
                loyalty_accounts.c.kind, loyalty_accounts.c.balance, loyalty_accounts.c.currency
            ).where(
                loyalty_accounts.c.membership_id == membership_id,
                loyalty_accounts.c.kind.in_(["wallet", "wallet_bonus"]),
            )
        )
    }
    currency = rows["wallet"].currency if "wallet" in rows else None
    if currency is None:
        currency = conn.scalar(
            select(loyalty_schemes.c.currency)
            .join(memberships, memberships.c.scheme_id == loyalty_schemes.c.id)
            .where(memberships.c.id == membership_id)
        )
        if currency is None:
            raise NotFound(
                "membership.unknown", f"no membership {membership_id}", field="membership_id"
            )
    return WalletBalance(
        principal_minor=rows["wallet"].balance if "wallet" in rows else 0,
        bonus_minor=rows["wallet_bonus"].balance if "wallet_bonus" in rows else 0,
        currency=currency,
    )


def _require_positive(amount: int, field: str) -> None:
    if amount <= 0:
        raise InvalidInput("wallet.not_positive", "an amount must be positive", field=field)


def _lock(conn: Connection, membership_id: int) -> tuple[Account | None, Account | None]:
    held = ledger.lock_accounts(conn, membership_id, ["wallet", "wallet_bonus"])
    return held.get("wallet"), held.get("wallet_bonus")


def _prior(
    conn: Connection,
    principal: Account,
    bonus: Account | None,
    natural_key: str,
    *,
    kinds: tuple[str, str],
) -> WalletMove | None:
    """What was posted under ``natural_key`` (signed amounts); ``ledger.key_reused`` unless it was
    the same operation (``kinds``: the principal's and the bonus's entry kinds)."""
    posted = ledger.find_many(
        conn, [account.id for account in (principal, bonus) if account is not None], natural_key
    )
    found = [None if account is None else posted.get(account.id) for account in (principal, bonus)]
    if found == [None, None]:
        return None
    if any(
        prior is not None and prior[0] != kind for prior, kind in zip(found, kinds, strict=True)
    ):
        raise ledger.key_reused(natural_key)
    amounts = [0 if prior is None else prior[1].amount for prior in found]
    return WalletMove(amounts[0], amounts[1], replayed=True)


def _refunded(conn: Connection, account: Account | None, pay_key: str) -> int:
    if account is None:
        return 0
    return int(
        conn.scalar(
            select(func.coalesce(func.sum(loyalty_entries.c.amount), 0)).where(
                loyalty_entries.c.account_id == account.id,
                loyalty_entries.c.kind == "refund",
                loyalty_entries.c.detail["pay_key"].as_string() == pay_key,
            )
        )
        or 0
    )


def _append(
    conn: Connection,
    parts: list[tuple[Account | None, str, int]],
    natural_key: str,
    order_id: str | None,
    detail: dict[str, str],
    actor: str,
    now: dt.datetime,
) -> None:
    """Post the (account, kind, amount) parts under one natural key, in one write. A part that
    moves nothing leaves no entry: an entry is a change to a balance."""
    postings = [
        ledger.Posting(account, kind, amount, natural_key, order_id, detail)
        for account, kind, amount in parts
        if amount != 0 and account is not None
    ]
    if postings:
        ledger.append_many(conn, postings, actor=actor, now=now)
