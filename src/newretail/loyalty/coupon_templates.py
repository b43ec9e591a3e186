"""Coupon templates: what a coupon gives (amount off, percent off, a free item, a size upgrade), where
it applies, how long it is valid and how many may be issued; the demo chain's own templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Connection, Row, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.model.codes import CHANNELS, CURRENCIES
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import coupon_templates
from newretail.security import Action, Permission, Principal
from newretail.security.audit import record

CouponKind = Literal["amount_off", "percent_off", "free_item", "size_upgrade"]
TemplateStatus = Literal["active", "paused", "retired"]
STATUSES: tuple[TemplateStatus, ...] = get_args(TemplateStatus)

Code = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]
# Only the fields a kind uses may be given: a stray percent on an amount-off coupon is a mistake.
_KIND_FIELDS: Mapping[str, frozenset[str]] = {
    "amount_off": frozenset({"amount_off_minor", "threshold_minor"}),
    "percent_off": frozenset({"percent_off", "cap_minor"}),
    "free_item": frozenset({"target_product_id", "target_category"}),
    "size_upgrade": frozenset(),
}
_VALUE_FIELDS = frozenset().union(*_KIND_FIELDS.values())


class CouponScope(BaseModel):
    """Where a coupon applies; an empty list means every channel, store, product or category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: list[Code] = Field(default_factory=list)
    stores: list[Code] = Field(default_factory=list)
    products: list[Code] = Field(default_factory=list)
    categories: list[Code] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: list[str]) -> list[str]:
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise PydanticCustomError(
                "coupon_template.unknown_channel",
                "unknown channel {channel}",
                {"channel": unknown[0], "field": "scope.channels"},
            )
        return channels

    @field_validator("channels", "stores", "products", "categories")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


class TemplateDraft(BaseModel):
    """A template as a marketer states it; the validators enforce what each kind needs.

    >>> TemplateDraft(id="t1", name="满30减10", name_en="10 off 30", kind="amount_off",
    ...               currency="CNY", amount_off_minor=1000, threshold_minor=3000,
    ...               valid_days=31).kind
    'amount_off'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    name_en: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    kind: CouponKind
    currency: str
    amount_off_minor: int | None = Field(default=None, gt=0)
    threshold_minor: int | None = Field(default=None, ge=0)
    percent_off: int | None = Field(default=None, ge=1, le=99)
    cap_minor: int | None = Field(default=None, gt=0)
    target_product_id: Code | None = None
    target_category: Code | None = None
    scope: CouponScope = Field(default_factory=CouponScope)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    valid_days: int | None = Field(default=None, ge=1, le=3660)
    budget_total: int | None = Field(default=None, ge=1)
    per_person_limit: int | None = Field(default=None, ge=1)
    stacks_with_tier: bool = True

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, currency: str) -> str:
        if currency not in CURRENCIES:
            raise PydanticCustomError(
                "coupon_template.unknown_currency",
                "currency must be one of {known}",
                {"known": ", ".join(CURRENCIES), "field": "currency"},
            )
        return currency

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _consistent(self) -> TemplateDraft:
        given = {name for name in _VALUE_FIELDS if getattr(self, name) is not None}
        stray = sorted(given - _KIND_FIELDS[self.kind])
        if stray:
            _fail(
                "coupon_template.field_not_for_kind", f"{self.kind} takes no {stray[0]}", stray[0]
            )
        if self.kind == "amount_off" and self.amount_off_minor is None:
            _fail(
                "coupon_template.amount_required",
                "amount_off needs amount_off_minor > 0",
                "amount_off_minor",
            )
        if self.kind == "percent_off" and self.percent_off is None:
            _fail(
                "coupon_template.percent_required",
                "percent_off needs percent_off 1..99",
                "percent_off",
            )
        if self.kind == "free_item" and (self.target_product_id is None) == (
            self.target_category is None
        ):
            _fail(
                "coupon_template.target_required",
                "free_item needs exactly one of target_product_id or target_category",
                "target_product_id",
            )
        if self.valid_until is None and self.valid_days is None:
            _fail(
                "coupon_template.validity_required", "give valid_until or valid_days", "valid_days"
            )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from >= self.valid_until
        ):
            _fail(
                "coupon_template.bad_window", "valid_from must be before valid_until", "valid_until"
            )
        return self


def _fail(code: str, message: str, field: str) -> None:
    raise PydanticCustomError(code, message, {"field": field})


def parse_draft(data: Mapping[str, object]) -> TemplateDraft:
    """A draft from plain data; :class:`InvalidInput` with the first problem's code and field.

    >>> parse_draft({"id": "t1", "name": "升杯", "name_en": "Size up", "kind": "size_upgrade",
    ...              "currency": "CNY"})
    Traceback (most recent call last):
    newretail.errors.InvalidInput: give valid_until or valid_days (valid_days)
    """
    try:
        return TemplateDraft.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        context = first.get("ctx") or {}
        code = (
            first["type"]
            if first["type"].startswith("coupon_template.")
            else "coupon_template.invalid"
        )
        field = str(context.get("field") or ".".join(str(part) for part in first["loc"]) or "body")
        raise InvalidInput(code, first["msg"], field=field) from None


@dataclass(frozen=True, slots=True)
class CouponTemplate:
    id: str
    name: str
    name_en: str
    kind: CouponKind
    currency: str
    amount_off_minor: int | None
    threshold_minor: int | None
    percent_off: int | None
    cap_minor: int | None
    target: dict[str, str] | None  # free items: {"product_id": ...} or {"category": ...}
    scope: CouponScope
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    valid_days: int | None
    budget_total: int | None
    per_person_limit: int | None
    issued_count: int
    stacks_with_tier: bool
    status: TemplateStatus
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def target_product_id(self) -> str | None:
        return None if self.target is None else self.target.get("product_id")

    @property
    def target_category(self) -> str | None:
        return None if self.target is None else self.target.get("category")


def template_from_row(row: Row[Any] | Mapping[str, Any]) -> CouponTemplate:
    """A template from a ``coupon_templates`` row (the coupon modules read it joined)."""
    values = dict(row._mapping if isinstance(row, Row) else row)
    scope = CouponScope.model_validate(values.pop("scope"))
    return CouponTemplate(**values, scope=scope)


def create_template(
    conn: Connection, draft: TemplateDraft, *, actor: Principal, now: dt.datetime
) -> CouponTemplate:
    """Store a new template, active (``loyalty.manage``, audited); Conflict if the id is taken."""
    actor.require(Permission.LOYALTY_MANAGE)
    if not _insert(conn, draft, created_by=actor.actor, now=now):
        raise Conflict("coupon_template.exists", f"template {draft.id!r} exists", field="id")
    template = get_template(conn, draft.id)
    _audit(conn, actor, Action.COUPON_TEMPLATE_CREATED, template, now, kind=template.kind)
    return template


def set_template_status(
    conn: Connection, template_id: str, status: str, *, actor: Principal, now: dt.datetime
) -> CouponTemplate:
    """Pause, resume or retire a template (``loyalty.manage``, audited); retiring is final.

    A paused or retired template issues nothing and its coupons cannot be used at checkout.
    """
    actor.require(Permission.LOYALTY_MANAGE)
    if status not in STATUSES:
        raise InvalidInput(
            "coupon_template.bad_status",
            f"status must be one of {', '.join(STATUSES)}",
            field="status",
        )
    before = get_template(conn, template_id)
    if before.status == status:
        return before
    if before.status == "retired":
        raise Conflict(
            "coupon_template.retired", f"template {template_id!r} is retired", field="status"
        )
    conn.execute(
        update(coupon_templates)
        .where(coupon_templates.c.id == template_id)
        .values(status=status, updated_at=now)
    )
    template = get_template(conn, template_id)
    _audit(
        conn, actor, Action.COUPON_TEMPLATE_UPDATED, template, now, status=status, was=before.status
    )
    return template


def get_template(conn: Connection, template_id: str) -> CouponTemplate:
    row = conn.execute(select(coupon_templates).where(coupon_templates.c.id == template_id)).first()
    if row is None:
        raise NotFound("coupon_template.unknown", f"there is no coupon template {template_id!r}")
    return template_from_row(row)


def list_templates(conn: Connection) -> list[CouponTemplate]:
    rows = conn.execute(select(coupon_templates).order_by(coupon_templates.c.id))
    return [template_from_row(row) for row in rows]


def ensure_demo_templates(conn: Connection, *, now: dt.datetime) -> list[str]:
    """Create the demo chain's templates that are missing; the ids created (none on a re-run)."""
    return [
        draft.id for draft in DEMO_TEMPLATES if _insert(conn, draft, created_by="demo", now=now)
    ]


def _insert(conn: Connection, draft: TemplateDraft, *, created_by: str, now: dt.datetime) -> bool:
    target = None
    if draft.target_product_id is not None:
        target = {"product_id": draft.target_product_id}
    elif draft.target_category is not None:
        target = {"category": draft.target_category}
    values = draft.model_dump(exclude={"target_product_id", "target_category"})
    values.update(
        target=target,
        scope=draft.scope.model_dump(),
        issued_count=0,
        status="active",
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    return insert_if_absent(conn, coupon_templates, values, unique=["id"])


def _audit(
    conn: Connection,
    actor: Principal,
    action: Action,
    template: CouponTemplate,
    now: dt.datetime,
    **detail: str,
) -> None:
    record(
        conn,
        actor=actor,
        action=action,
        at=now,
        target_type="coupon_template",
        target_id=template.id,
        detail=detail,
    )


def _demo(**fields: Any) -> TemplateDraft:
    return TemplateDraft.model_validate(fields)


# A coffee chain's everyday coupons in China (fen) and one for its Singapore stores (cents): the
# paid membership's monthly vouchers, a welcome coupon, a weekday app offer and a size upgrade.
DEMO_TEMPLATES: Sequence[TemplateDraft] = (
    _demo(
        id="paid_monthly_free_drink",
        name="付费会员每月免费咖啡",
        name_en="Paid member: a free coffee each month",
        kind="free_item",
        currency="CNY",
        target_category="coffee",
        valid_days=31,
    ),
    _demo(
        id="paid_monthly_10_off",
        name="付费会员满30减10",
        name_en="Paid member: 10 off 30",
        kind="amount_off",
        currency="CNY",
        amount_off_minor=1000,
        threshold_minor=3000,
        valid_days=31,
    ),
    _demo(
        id="welcome_5_off",
        name="新会员满20减5",
        name_en="Welcome: 5 off 20",
        kind="amount_off",
        currency="CNY",
        amount_off_minor=500,
        threshold_minor=2000,
        valid_days=14,
        per_person_limit=1,
    ),
    _demo(
        id="weekday_20pct",
        name="工作日线上八折（最高减10元）",
        name_en="Weekday 20% off online (up to 10)",
        kind="percent_off",
        currency="CNY",
        percent_off=20,
        cap_minor=1000,
        scope={"channels": ["app", "mini_program"]},
        valid_days=7,
        # A percentage on top of the member's tier discount would be too deep.
        stacks_with_tier=False,
    ),
    _demo(
        id="size_up",
        name="免费升杯",
        name_en="Free size upgrade",
        kind="size_upgrade",
        currency="CNY",
        valid_days=14,
    ),
    _demo(
        id="sg_welcome_1_50_off",
        name="新加坡新会员满6减1.5",
        name_en="Singapore welcome: 1.50 off 6",
        kind="amount_off",
        currency="SGD",
        amount_off_minor=150,
        threshold_minor=600,
        valid_days=14,
        per_person_limit=1,
    ),
)
