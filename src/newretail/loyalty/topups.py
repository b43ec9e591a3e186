"""A wallet top-up under its scheme's rules: the wallet must exist in the scheme, the payment method
be one a shopper pays with, the bonus comes from the top-up steps and the balance stays under the
scheme's cap. :func:`newretail.loyalty.wallet.top_up` then moves the money."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from newretail.errors import Conflict, InvalidInput
from newretail.loyalty import ledger, wallet
from newretail.loyalty.earning import topup_bonus
from newretail.loyalty.memberships import get_membership
from newretail.loyalty.schemes import get_scheme

# What a shopper tops up with; stored value cannot top itself up.
PAYMENT_METHODS = ("wechat_pay", "alipay", "card", "cash")


@dataclass(frozen=True, slots=True)
class TopUpResult:
    """What one top-up credited; ``replayed`` when its natural key had topped up before."""

    membership_id: int
    amount_minor: int
    bonus_minor: int
    currency: str
    replayed: bool


def top_up_wallet(
    conn: Connection,
    membership_id: int,
    amount_minor: int,
    *,
    payment_method: str,
    natural_key: str,
    actor: str,
    now: dt.datetime,
) -> TopUpResult:
    """Top up the membership's wallet by ``amount_minor`` plus the bonus its scheme's steps give.

    Refused, with nothing written: a scheme without a wallet (Conflict ``loyalty.no_wallet``), a
    payment method outside :data:`PAYMENT_METHODS` (``wallet.bad_payment_method``), and a top-up
    that would take principal plus bonus above the scheme's ``max_balance_minor`` (Conflict
    ``wallet.over_limit``). A retry under ``natural_key`` returns the first top-up, replayed, even
    if the balance has reached the cap since.

    With a CNY 100 bonus on CNY 1,000 and a cap of CNY 5,000, topping up 1,000 on an empty wallet
    credits 1,000 + 100; on a wallet holding 4,000 it is refused.
    """
    membership = get_membership(conn, membership_id)
    scheme = get_scheme(conn, membership.scheme_id)
    rules = scheme.rules.wallet
    if rules is None:
        raise Conflict(
            "loyalty.no_wallet",
            f"scheme {scheme.id} has no stored-value wallet",
            field="membership_id",
        )
    if payment_method not in PAYMENT_METHODS:
        raise InvalidInput(
            "wallet.bad_payment_method",
            f"top up with one of {', '.join(PAYMENT_METHODS)}",
            field="payment_method",
        )
    if amount_minor <= 0:
        raise InvalidInput(
            "wallet.not_positive", "an amount must be positive", field="amount_minor"
        )
    bonus = topup_bonus(scheme, amount_minor)
    cap = rules.max_balance_minor
    if not _within_cap(conn, membership_id, amount_minor + bonus, cap=cap, natural_key=natural_key):
        # A first top-up opens the accounts; another racing it may have opened and filled them
        # first (then these inserts do nothing), so look again once they are there and locked.
        for kind in ("wallet", "wallet_bonus"):
            ledger.account_id(conn, membership_id, kind, currency=scheme.currency, now=now)
        _within_cap(conn, membership_id, amount_minor + bonus, cap=cap, natural_key=natural_key)
    moved = wallet.top_up(
        conn,
        membership_id,
        amount_minor,
        bonus_minor=bonus,
        currency=scheme.currency,
        natural_key=natural_key,
        payment_method=payment_method,
        actor=actor,
        now=now,
    )
    return TopUpResult(
        membership_id=membership_id,
        amount_minor=moved.principal_minor,
        bonus_minor=moved.bonus_minor,
        currency=scheme.currency,
        replayed=moved.replayed,
    )


def _within_cap(
    conn: Connection, membership_id: int, adding: int, *, cap: int, natural_key: str
) -> bool:
    """Lock the wallet's accounts (principal before bonus, as the wallet does, so top-ups racing to
    the cap are checked one after the other) and refuse ``wallet.over_limit`` when ``adding`` would
    take them above ``cap``; whether the accounts exist. A retry of a top-up is never refused."""
    accounts = ledger.lock_accounts(conn, membership_id, ["wallet", "wallet_bonus"])
    principal = accounts.get("wallet")
    if principal is not None and ledger.find(conn, principal.id, natural_key) is not None:
        return True
    held = sum(account.balance for account in accounts.values())
    if held + adding > cap:
        raise Conflict(
            "wallet.over_limit",
            f"the wallet holds {held} and may hold at most {cap}, so it cannot take {adding} more "
            "(the top-up and its bonus)",
            field="amount_minor",
        )
    return principal is not None
