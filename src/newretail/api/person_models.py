"""The person resource's models: the member 360, search hits, merge history and requests, and review
items. Phone and e-mail appear only masked; money is integer minor units beside its currency."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator

from newretail.api.models import Create, Public

PersonIdText = Annotated[str, Field(min_length=1, max_length=64, examples=["P3KX7Q2M4TZ5A"])]


class RecordPublic(Public):
    """One source's identity record, as the source holds it (phone and e-mail masked)."""

    source: str
    source_record_id: str
    phone_masked: str | None = None
    email_masked: str | None = None
    wechat_unionid: str | None = None
    wechat_openid: str | None = None
    app_uid: str | None = None
    platform_user_id: str | None = None
    pos_card_no: str | None = None
    name: str | None = None
    gender: str | None = Field(None, description="F, M or U (unknown).")
    birthday: dt.date | None = None
    city: str | None = None
    address: str | None = None
    consent_sms: bool | None = None
    consent_email: bool | None = None
    consent_wechat: bool | None = None
    consent_push: bool | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class IdentityPublic(RecordPublic):
    """A record linked to the person, and why."""

    reason_kind: str = Field(description="identifier, match, manual or single.")
    reason: str = Field(description="The shared identifiers, the matched record, or who merged.")
    match_weight: float | None = Field(None, description="The match's log-odds weight, if matched.")
    origin: str = Field(description="lake (the nightly run) or api (resolve, import).")
    linked_at: dt.datetime


class GoldenPublic(Public):
    """One value per field, picked from the person's records by the survivorship rules."""

    person_id: str | None = None
    name: str | None = None
    gender: str | None = None
    birthday: dt.date | None = None
    city: str | None = None
    address: str | None = None
    phone_masked: str | None = None
    email_masked: str | None = None
    consent_sms: bool | None = None
    consent_email: bool | None = None
    consent_wechat: bool | None = None
    consent_push: bool | None = None
    records: int = 0
    sources: list[str] = Field(default_factory=list)
    first_seen_at: dt.datetime | None = None
    last_updated_at: dt.datetime | None = None


class MembershipPublic(Public):
    source: str
    source_record_id: str
    membership_id: str
    program: str
    level: str
    points: int | None = None
    joined_at: dt.datetime
    expires_on: dt.date | None = None
    updated_at: dt.datetime


class MembershipSummaryPublic(Public):
    programmes: int
    sources: list[str]
    first_joined_at: dt.datetime | None = None
    paid_until: dt.date | None = None
    points_by_programme: dict[str, int | None] = Field(
        description="Points per `source:program`; never added up, each is its own currency."
    )


class OrderPublic(Public):
    source: str
    order_id: str
    channel: str
    store_id: str
    status: str
    fulfilment: str | None = None
    placed_at: dt.datetime
    completed_at: dt.datetime | None = None
    currency: str
    gross_minor: int
    discount_minor: int
    delivery_fee_minor: int | None = None
    paid_minor: int
    payment_method: str | None = None
    coupon_id: str | None = None
    identity_source: str | None = Field(None, description="The source of the record it was under.")
    business_date: dt.date


class ChannelOrdersPublic(Public):
    channel: str
    currency: str
    orders: int = Field(description="Orders placed, whatever their status.")
    completed: int
    paid_minor: int = Field(description="Paid on completed orders, in minor units.")
    first_order_at: dt.datetime | None = None
    last_order_at: dt.datetime | None = None

    @field_validator("paid_minor", mode="before")
    @classmethod
    def _none_is_zero(cls, value: object) -> object:
        return 0 if value is None else value


class RefundPublic(Public):
    source: str
    refund_id: str
    order_source: str
    order_id: str
    store_id: str
    reason: str
    currency: str
    amount_minor: int
    requested_at: dt.datetime


class ComplaintPublic(Public):
    source: str
    complaint_id: str
    order_source: str | None = None
    order_id: str | None = None
    store_id: str
    category: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None


class TimelineItemPublic(Public):
    at: dt.datetime | None
    kind: str = Field(description="order, refund, complaint, event, merge, unmerge, split, ...")
    channel: str | None = None
    store_id: str | None = None
    status: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    reason: str | None = None
    category: str | None = None
    event: str | None = None
    other_person_id: str | None = None


class MergeEventPublic(Public):
    id: int
    at: dt.datetime
    kind: str = Field(description="merge, unmerge, split or remerge.")
    actor: str
    person_id: str = Field(description="The person the records moved to (a merge: the one kept).")
    other_person_id: str = Field(description="The person they came from.")
    records_moved: int
    reason: str
    undoes: int | None = None
    undone_by: int | None = Field(None, description="The event that undid this one, if any.")


class PersonPublic(Public):
    """The member 360."""

    person_id: str
    requested_id: str = Field(description="The id asked for; differs when it was merged away.")
    status: str = Field(description="active or provisional.")
    golden: GoldenPublic
    identities: list[IdentityPublic]
    memberships: list[MembershipPublic]
    membership_summary: MembershipSummaryPublic
    orders: list[OrderPublic] = Field(description="The newest orders, newest first.")
    orders_by_channel: list[ChannelOrdersPublic]
    refunds: list[RefundPublic]
    complaints: list[ComplaintPublic]
    timeline: list[TimelineItemPublic]
    merges: list[MergeEventPublic]


class PersonHitPublic(Public):
    person_id: str
    status: str
    matched_by: str = Field(description="person_id, record, phone or email.")
    sources: list[str]
    name: str | None
    phone_masked: str | None


class PersonsPublic(Public):
    data: list[PersonHitPublic]
    count: int


class HistoryPublic(Public):
    person_id: str
    requested_id: str
    data: list[MergeEventPublic]
    count: int


class MergeRequest(Create):
    absorb: PersonIdText = Field(description="The person whose records move and who retires.")
    reason: Annotated[str, Field(min_length=1, max_length=200, examples=["same member card"])]


class UnmergeRequest(Create):
    event_id: int | None = Field(None, description="The merge to undo; the latest if absent.")


class ReviewSidePublic(Public):
    source: str
    source_record_id: str
    person_id: str | None = Field(description="The person the record belongs to now.")
    record: RecordPublic | None


class ReviewItemPublic(Public):
    id: int
    left: ReviewSidePublic
    right: ReviewSidePublic
    match_probability: float
    match_weight: float
    status: str = Field(description="open, approved or rejected.")


class ReviewsPublic(Public):
    data: list[ReviewItemPublic]
    count: int
