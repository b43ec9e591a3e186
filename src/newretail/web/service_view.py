"""What the person page's Membership & benefits and Service sections show, read through the loyalty
and trade modules: each membership with its tier, points, wallet and paid periods, a page of its
ledger entries (newest first), the person's coupons with whether a re-issue may replace them, and a
page of the person's orders with their lines, refunds and what is left to refund."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import Connection

from newretail.errors import NotFound
from newretail.loyalty import ledger, wallet
from newretail.loyalty.coupon_templates import list_templates
from newretail.loyalty.coupons import Coupon, coupons_of
from newretail.loyalty.earning import tier_rule
from newretail.loyalty.ledger import Entry
from newretail.loyalty.memberships import Membership, memberships_of
from newretail.loyalty.periods import PaidPeriod, periods_of
from newretail.loyalty.schemes import Scheme, get_scheme
from newretail.trade.catalogue import items_for
from newretail.trade.order_views import OrderView, get_order, list_orders
from newretail.trade.service_view import ReissueState, reissue_states
from newretail.web.coupon_view import benefit
from newretail.web.i18n import Language
from newretail.web.loyalty_view import local_name
from newretail.web.money import format_count, format_money

Translate = Callable[..., str]
HISTORY_PAGE = 10
ORDERS_PAGE = 10
BOOKS: tuple[ledger.AccountKind, ...] = ("points", "wallet", "wallet_bonus")


@dataclass(frozen=True, slots=True)
class EntryRow:
    entry: Entry
    amount: str
    balance_after: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class MembershipCard:
    membership: Membership
    scheme: Scheme
    scheme_name: str
    tier_name: str
    discount_percent: int
    points: int
    wallet: wallet.WalletBalance | None
    periods: list[PaidPeriod]
    current_period: PaidPeriod | None
    history: list[EntryRow]
    older: int | None  # the before_id of the next page of history, if there is one


@dataclass(frozen=True, slots=True)
class CouponRow:
    coupon: Coupon
    name: str
    benefit: str
    currency: str
    state: ReissueState


@dataclass(frozen=True, slots=True)
class OrderRow:
    view: OrderView
    product_names: dict[str, str]
    left: dict[int, int]  # line_no -> units not refunded yet
    refund_key: str  # a fresh key per rendering: the same form sent twice refunds once


def membership_cards(
    conn: Connection, person_id: str, *, language: Language, today: dt.date
) -> list[MembershipCard]:
    cards = []
    for membership in memberships_of(conn, person_id):
        scheme = get_scheme(conn, membership.scheme_id)
        try:
            tier = tier_rule(scheme, membership.tier)
            tier_name, discount = local_name(tier, language), tier.discount_percent
        except NotFound:
            tier_name, discount = membership.tier, 0
        balance = wallet.balances(conn, membership.id)
        held = balance.principal_minor or balance.bonus_minor
        periods = periods_of(conn, membership.id)
        history, older = history_page(conn, membership.id, before_id=None)
        cards.append(
            MembershipCard(
                membership=membership,
                scheme=scheme,
                scheme_name=local_name(scheme, language),
                tier_name=tier_name,
                discount_percent=discount,
                points=ledger.balance(conn, membership.id, "points"),
                wallet=balance if scheme.rules.wallet is not None or held else None,
                periods=list(reversed(periods)),
                current_period=next(
                    (
                        p
                        for p in periods
                        if p.status == "active" and p.starts_on <= today <= p.ends_on
                    ),
                    None,
                ),
                history=[entry_row(entry, balance.currency) for entry in history],
                older=older,
            )
        )
    return cards


def history_page(
    conn: Connection, membership_id: int, *, before_id: int | None
) -> tuple[list[Entry], int | None]:
    """A page of the membership's ledger entries, newest first, and where the next page starts."""
    entries = ledger.history(
        conn, membership_id, BOOKS, limit=HISTORY_PAGE + 1, before_id=before_id
    )
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    return entries, entries[-1].id if more else None


def entry_row(entry: Entry, currency: str) -> EntryRow:
    """An entry with its amount and balance as points, or as money in the wallet's ``currency``."""
    if entry.account_kind == "points":
        amount = f"{entry.amount:+,}"
        after = format_count(entry.balance_after)
    else:
        sign = "+" if entry.amount > 0 else ""
        amount = sign + format_money(entry.amount, currency)
        after = format_money(entry.balance_after, currency)
    reason = entry.detail.get("reason") if isinstance(entry.detail, dict) else None
    return EntryRow(entry, amount, after, str(reason) if reason else None)


def coupon_rows(
    conn: Connection, person_id: str, *, t: Translate, language: Language, now: dt.datetime
) -> list[CouponRow]:
    held = coupons_of(conn, person_id)
    templates = {template.id: template for template in list_templates(conn)}
    states = reissue_states(conn, held, now=now)
    out = []
    for coupon in held:
        template = templates[coupon.template_id]
        out.append(
            CouponRow(
                coupon=coupon,
                name=local_name(template, language),
                benefit=benefit(template, t),
                currency=template.currency,
                state=states[coupon.id],
            )
        )
    return out


def order_rows(
    conn: Connection,
    person_id: str,
    *,
    store_scope: Collection[str] | None,
    page: int,
    language: Language,
) -> tuple[list[OrderRow], int]:
    """A page of the person's orders (only those stores' with a store scope) and how many in all."""
    found = list_orders(
        conn,
        person_ids=[person_id],
        store_ids=store_scope,
        limit=ORDERS_PAGE,
        offset=page * ORDERS_PAGE,
    )
    out = []
    for summary in found.data:
        view = get_order(conn, summary.id)
        items = items_for(
            conn, {line.product_id for line in view.lines}, currency=view.order.currency
        )
        out.append(
            OrderRow(
                view=view,
                product_names={
                    pid: (item.name_en if language == "en" and item.name_en else item.name)
                    for pid, item in items.items()
                },
                left={line.line_no: line.quantity - line.refunded_quantity for line in view.lines},
                refund_key=f"console-{secrets.token_hex(8)}",
            )
        )
    return out, found.count
