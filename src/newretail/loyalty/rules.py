"""A scheme's rules as one validated document: channels, the tier ladder, earn rules and points expiry,
wallet top-up bonuses and, for a paid scheme, its price and monthly vouchers."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from newretail.errors import InvalidInput
from newretail.model.codes import CHANNELS, CURRENCIES

SchemeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,39}$")]
TierId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Percent = Annotated[int, Field(ge=0, le=1000)]

MAX_TIERS = 20
MAX_DISCOUNT_PERCENT = 50


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierRule(_Rules):
    """A rung of the ladder: reached when the tier metric is at least ``threshold`` (minor units of
    spend, or points, by the scheme's ``tier_metric``)."""

    id: TierId
    name: Name
    name_en: Name
    threshold: int = Field(ge=0)
    discount_percent: int = Field(default=0, ge=0, le=MAX_DISCOUNT_PERCENT)
    points_multiplier_percent: Percent = 100


class EarnRules(_Rules):
    """Points per net spend: one point per ``minor_per_point`` minor units, times the channel, category
    and tier multipliers (percent; absent means 100); excluded categories earn nothing."""

    minor_per_point: int = Field(ge=1, le=1_000_000)
    channel_multiplier_percent: dict[str, Percent] = Field(default_factory=dict)
    category_multiplier_percent: dict[Category, Percent] = Field(default_factory=dict)
    excluded_categories: list[Category] = Field(default_factory=list)
    expiry_months: int = Field(ge=1, le=60, description="points expire at the end of that month")

    @field_validator("channel_multiplier_percent")
    @classmethod
    def _known_channels(cls, value: dict[str, int]) -> dict[str, int]:
        _check_channels(value)
        return value

    @field_validator("excluded_categories")
    @classmethod
    def _unique_categories(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("name each excluded category once")
        return value


class TopUpBonus(_Rules):
    """A top-up of at least ``min_topup_minor`` earns ``bonus_minor`` of bonus balance."""

    min_topup_minor: int = Field(ge=1)
    bonus_minor: int = Field(ge=1)

    @model_validator(mode="after")
    def _bonus_below_topup(self) -> TopUpBonus:
        if self.bonus_minor >= self.min_topup_minor:
            raise ValueError("a bonus must be smaller than the top-up that earns it")
        return self


class WalletRules(_Rules):
    """The stored-value wallet: top-up bonuses (the largest one reached applies) and a balance cap."""

    topup_bonus: list[TopUpBonus] = Field(default_factory=list)
    max_balance_minor: int = Field(ge=1)

    @field_validator("topup_bonus")
    @classmethod
    def _ascending(cls, value: list[TopUpBonus]) -> list[TopUpBonus]:
        for before, after in pairwise(value):
            if after.min_topup_minor <= before.min_topup_minor:
                raise ValueError("list bonuses by ascending min_topup_minor")
            if after.bonus_minor < before.bonus_minor:
                raise ValueError("a larger top-up cannot earn a smaller bonus")
        return value

    @model_validator(mode="after")
    def _within_cap(self) -> WalletRules:
        if any(b.min_topup_minor > self.max_balance_minor for b in self.topup_bonus):
            raise ValueError("a bonus step lies above max_balance_minor and could never be reached")
        return self


class MonthlyVoucher(_Rules):
    """``count`` coupons of a template issued to a paid member each month of the period."""

    template_id: TemplateId
    count: int = Field(default=1, ge=1, le=10)


class PaidRules(_Rules):
    """The paid membership: its price for ``period_months`` and the vouchers of each month."""

    price_minor: int = Field(ge=1)
    period_months: int = Field(default=12, ge=1, le=36)
    monthly_vouchers: list[MonthlyVoucher] = Field(default_factory=list, max_length=10)

    @field_validator("monthly_vouchers")
    @classmethod
    def _unique_templates(cls, value: list[MonthlyVoucher]) -> list[MonthlyVoucher]:
        if len({v.template_id for v in value}) != len(value):
            raise ValueError("name each template once (use count for several)")
        return value


class SchemeRules(_Rules):
    """Everything a scheme decides, stored as one JSON document in ``loyalty_schemes.rules``."""

    channels: list[str] = Field(min_length=1)
    tier_metric: Literal["spend", "points"]
    tier_window_days: int = Field(default=365, ge=1, le=1096)
    tiers: list[TierRule] = Field(min_length=1, max_length=MAX_TIERS)
    earn: EarnRules
    wallet: WalletRules | None = None
    paid: PaidRules | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        _check_channels(value)
        if len(set(value)) != len(value):
            raise ValueError("name each channel once")
        return value

    @field_validator("tiers")
    @classmethod
    def _ladder(cls, value: list[TierRule]) -> list[TierRule]:
        if value[0].threshold != 0:
            raise ValueError("the first tier must have threshold 0 (every member holds a tier)")
        for before, after in pairwise(value):
            if after.threshold <= before.threshold:
                raise ValueError("list tiers by strictly ascending threshold")
        if len({t.id for t in value}) != len(value):
            raise ValueError("tier ids must be unique")
        return value

    @model_validator(mode="after")
    def _multipliers_on_own_channels(self) -> SchemeRules:
        stray = sorted(set(self.earn.channel_multiplier_percent) - set(self.channels))
        if stray:
            raise ValueError(f"earn multipliers name channels outside the scheme: {stray}")
        return self

    def tier_ids(self) -> list[str]:
        return [t.id for t in self.tiers]


class SchemeDraft(_Rules):
    """A scheme as submitted for creation or as a whole replacement on update.

    >>> SchemeDraft.model_validate(
    ...     {"id": "tea_club", "name": "茶会员", "name_en": "Tea club", "kind": "free",
    ...      "currency": "CNY", "rules": {"channels": ["app"], "tier_metric": "spend",
    ...      "tiers": [{"id": "member", "name": "会员", "name_en": "Member", "threshold": 0}],
    ...      "earn": {"minor_per_point": 100, "expiry_months": 12}}}
    ... ).rules.tier_ids()
    ['member']
    """

    id: SchemeId
    name: Name
    name_en: Name
    kind: Literal["free", "paid"]
    currency: str
    rules: SchemeRules
    active: bool = True

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"use one of {', '.join(CURRENCIES)}")
        return value

    @model_validator(mode="after")
    def _paid_rules_match_kind(self) -> SchemeDraft:
        if self.kind == "paid" and self.rules.paid is None:
            raise ValueError("a paid scheme needs rules.paid (price and vouchers)")
        if self.kind == "free" and self.rules.paid is not None:
            raise ValueError("a free scheme has no rules.paid")
        return self


def parse_draft(data: Mapping[str, object]) -> SchemeDraft:
    """``data`` as a draft, or :class:`InvalidInput` ``loyalty.bad_scheme`` naming the first bad field."""
    try:
        return SchemeDraft.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


def parse_rules(data: object) -> SchemeRules:
    """Rules as stored, or :class:`InvalidInput` ``loyalty.bad_scheme`` (field under ``rules``)."""
    try:
        return SchemeRules.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, prefix=("rules",)) from None


def _check_channels(channels: object) -> None:
    unknown = sorted(set(channels) - set(CHANNELS)) if isinstance(channels, list | dict) else []
    if unknown:
        raise ValueError(f"unknown channels {unknown}; use {', '.join(CHANNELS)}")


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ()) -> InvalidInput:
    first = exc.errors(include_url=False)[0]
    field = ""
    for part in (*prefix, *first["loc"]):
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(
        "loyalty.bad_scheme", f"{field or 'scheme'}: {message}{tail}", field=field or None
    )
