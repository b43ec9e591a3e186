"""The membership API's models: schemes, a membership with its balances and paid period, its ledger
history, and the requests that move a balance (enrol, top up, spend or adjust points, buy paid
membership). Money is integer minor units beside its currency; points are integers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from newretail.api.models import Create, Public
from newretail.api.trade_models import MemberCreate
from newretail.loyalty.rules import SchemeDraft, SchemeRules, parse_draft

# What a shopper pays a top-up or a paid membership with at the channel's till; the wallet itself
# only pays for paid membership (a top-up paid from the wallet would be money going round in a circle).
TopUpPayment = Literal["wechat_pay", "alipay", "card", "cash"]
PaidPayment = Literal["wechat_pay", "alipay", "card", "cash", "stored_value"]


class SchemeUpdate(Create):
    """A scheme as a whole: an update replaces its names, rules and active flag (kind and currency
    are fixed once created)."""

    name: str = Field(max_length=200, examples=["茶会员"])
    name_en: str = Field(max_length=200, examples=["Tea club"])
    kind: Literal["free", "paid"]
    currency: str = Field(examples=["CNY"])
    rules: SchemeRules
    active: bool = True

    def draft_for(self, scheme_id: str) -> SchemeDraft:
        return parse_draft({**self.model_dump(mode="json"), "id": scheme_id})


class SchemeCreate(SchemeUpdate):
    id: str = Field(max_length=40, examples=["tea_club"], description="a-z, 0-9 and _.")

    def draft(self) -> SchemeDraft:
        return self.draft_for(self.id)


class SchemePublic(Public):
    id: str
    name: str
    name_en: str
    kind: Literal["free", "paid"]
    currency: str
    rules: SchemeRules
    active: bool


class SchemesPublic(Public):
    data: list[SchemePublic]
    count: int


class EnrolCreate(Create):
    scheme_id: str = Field(max_length=40, examples=["tea_club"])
    member: MemberCreate
    channel: str = Field(
        max_length=16, examples=["app"], description="The channel the shopper joins through."
    )


class BalancesPublic(Public):
    points: int = Field(description="May be negative only after a refund clawed back spent points.")
    wallet_principal_minor: int = Field(description="Money topped up and not spent.")
    wallet_bonus_minor: int = Field(description="Top-up bonus not spent.")
    wallet_currency: str


class PaidPeriodPublic(Public):
    id: int
    membership_id: int
    starts_on: dt.date
    ends_on: dt.date = Field(description="The last day covered.")
    price_minor: int
    currency: str
    payment_method: str
    status: Literal["active", "cancelled"]
    purchased_at: dt.datetime
    cancelled_at: dt.datetime | None
    refund_minor: int | None = Field(description="The pro-rata refund, once cancelled.")


class MembershipPublic(Public):
    id: int
    scheme_id: str
    person_id: str
    tier: str
    tier_since: dt.datetime
    status: str
    joined_at: dt.datetime
    joined_channel: str
    balances: BalancesPublic
    paid: PaidPeriodPublic | None = Field(
        description="The paid period covering today, or the next one bought (paid schemes)."
    )


class MembershipsPublic(Public):
    data: list[MembershipPublic]
    count: int


class EntryPublic(Public):
    id: int
    account_kind: Literal["points", "wallet", "wallet_bonus"]
    kind: str = Field(description="earn, spend, expire, topup, bonus, pay, refund, adjust, ...")
    amount: int = Field(description="Signed: + credits, - debits (points or minor units).")
    balance_after: int
    order_id: str | None
    detail: dict[str, object]
    actor: str
    at: dt.datetime


class HistoryPublic(Public):
    membership_id: int
    data: list[EntryPublic]
    count: int = Field(description="Entries on this page.")
    next_before_id: int | None = Field(
        description="Pass as before_id for the next (older) page; null on the last page."
    )


class TopUpCreate(Create):
    amount_minor: int = Field(gt=0, examples=[20000])
    payment_method: TopUpPayment


class TopUpPublic(Public):
    membership_id: int
    amount_minor: int
    bonus_minor: int = Field(description="Bonus credited by the scheme's top-up rules.")
    balances: BalancesPublic


class RedemptionCreate(Create):
    """Spend points on one coupon of a template."""

    points: int = Field(gt=0, examples=[500])
    template_id: str = Field(max_length=40, examples=["size_up"])


class AdjustmentCreate(Create):
    """A service correction: positive credits points (never expiring unless ``expires_on``),
    negative takes them like a spend."""

    points: int = Field(examples=[200])
    reason: str = Field(min_length=1, max_length=200)
    expires_on: dt.date | None = None


class PointsMovePublic(Public):
    membership_id: int
    points: int = Field(description="Signed change of the balance.")
    balance: int = Field(description="Points held after it.")


class RedemptionPublic(PointsMovePublic):
    coupon_id: str = Field(description="The coupon the points bought.")
    template_id: str


class PaidCreate(Create):
    scheme_id: str = Field(max_length=40, examples=["paid_club"])
    member: MemberCreate
    payment_method: PaidPayment
    channel: str | None = Field(
        None,
        max_length=16,
        examples=["app"],
        description="The channel selling it (default: the scheme's first); with stored_value, "
        "the wallet of the free scheme covering it pays when the paid scheme has no wallet.",
    )
