"""The coupon API's models: a template as created and as read back with its counts and cost, a status
change, an issue to a list of persons or an audience, and a coupon."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from newretail.api.models import Create, Public
from newretail.loyalty.coupon_templates import CouponScope, TemplateDraft, parse_draft

MAX_LISTED = 100_000  # persons per issue; a larger list goes in several issues (or an audience)


class ScopeCreate(Create):
    """Where a coupon applies; an empty list means every channel, store, product or category."""

    channels: list[str] = Field(default_factory=list, examples=[["app", "mini_program"]])
    stores: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, examples=[["coffee"]])


class TemplateCreate(Create):
    """A template: the fields a kind needs (amount off with an optional threshold, percent off with
    an optional cap, a free item of a product or a category, a size upgrade) and a validity
    (``valid_until`` or ``valid_days``). A field another kind uses is refused, with its name."""

    id: str = Field(max_length=40, examples=["autumn_5_off"], description="a-z, 0-9, _ and -.")
    name: str = Field(max_length=200, examples=["秋季满20减5"])
    name_en: str = Field(max_length=200, examples=["Autumn: 5 off 20"])
    kind: Literal["amount_off", "percent_off", "free_item", "size_upgrade"]
    currency: str = Field(examples=["CNY"])
    amount_off_minor: int | None = None
    threshold_minor: int | None = Field(None, description="Minimum eligible spend.")
    percent_off: int | None = Field(None, description="1 to 99.")
    cap_minor: int | None = Field(None, description="The most a percent-off coupon takes.")
    target_product_id: str | None = None
    target_category: str | None = None
    scope: ScopeCreate = Field(default_factory=ScopeCreate)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    valid_days: int | None = Field(None, description="Validity counted from issue.")
    budget_total: int | None = Field(None, description="The most coupons ever issued.")
    per_person_limit: int | None = None
    stacks_with_tier: bool = True

    def draft(self) -> TemplateDraft:
        return parse_draft(self.model_dump(exclude_unset=True))


class TemplateStatsPublic(Public):
    issued: int = Field(description="Every coupon ever issued, whatever became of it.")
    outstanding: int = Field(description="Issued and not yet used, expired or revoked.")
    redeemed: int
    expired: int
    revoked: int
    cost_minor: int = Field(description="The discounts redeemed coupons gave.")


class TemplatePublic(Public):
    id: str
    name: str
    name_en: str
    kind: str
    currency: str
    amount_off_minor: int | None
    threshold_minor: int | None
    percent_off: int | None
    cap_minor: int | None
    target_product_id: str | None
    target_category: str | None
    scope: CouponScope
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    valid_days: int | None
    budget_total: int | None
    per_person_limit: int | None
    stacks_with_tier: bool
    status: Literal["active", "paused", "retired"]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    stats: TemplateStatsPublic


class TemplatesPublic(Public):
    data: list[TemplatePublic]
    count: int


class StatusChange(Create):
    status: Literal["active", "paused", "retired"] = Field(
        description="Pause or resume; retiring is final."
    )


class IssueCreate(Create):
    """Issue one coupon to each of a list of persons, or to each member of an audience: a snapshot
    of it named by ``snapshot_id``, else its latest snapshot, else one frozen now."""

    person_ids: list[str] | None = Field(None, max_length=MAX_LISTED)
    audience_id: str | None = Field(None, max_length=40)
    snapshot_id: str | None = Field(None, max_length=40)
    issue_key: str = Field(
        min_length=1,
        max_length=160,
        examples=["autumn-campaign-wave-1"],
        description="Why these coupons are issued: a person gets at most one per issue key.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.person_ids is None) == (self.audience_id is None):
            raise ValueError("give person_ids or audience_id, exactly one of them")
        if self.snapshot_id is not None and self.audience_id is None:
            raise ValueError("snapshot_id goes with audience_id")
        return self


class IssuePublic(Public):
    template_id: str
    issue_key: str
    snapshot_id: str | None = Field(description="The audience snapshot issued to, if any.")
    persons: int = Field(description="Distinct persons asked for.")
    issued: int
    already: int = Field(description="Persons who had a coupon under this issue key.")
    over_budget: int = Field(description="Persons left out: the template's budget ran out.")
    over_person_limit: int = Field(description="Persons left out: they hold as many as allowed.")


class CouponPublic(Public):
    id: str = Field(description="The code the member shows.")
    template_id: str
    person_id: str
    status: Literal["issued", "redeemed", "expired", "revoked"]
    issued_at: dt.datetime
    valid_from: dt.datetime
    expires_at: dt.datetime
    order_id: str | None
    redeemed_at: dt.datetime | None
    discount_minor: int | None


class CouponsPublic(Public):
    data: list[CouponPublic]
    count: int


class ReissueCreate(Create):
    reason: str = Field(min_length=1, max_length=200, examples=["expired while the app was down"])
