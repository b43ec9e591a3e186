"""The API's request and response models, a family per resource (``XCreate``, ``XPublic``, list
envelopes with ``data`` and ``count``); the domain's dataclasses convert through ``from_attributes``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newretail.security import Permission, Role


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Create(BaseModel):
    """Admin payloads: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Accepted(Public):
    """Segment's answer to an accepted request: its events are durable."""

    success: Literal[True] = True


class ActivityPublic(Public):
    person_id: str
    day: dt.date
    last_seen: dt.datetime | None
    events_on_day: int


class MePublic(Public):
    actor: str
    user_id: int | None
    role: Role
    stores: list[str]
    permissions: list[Permission]
    key_prefix: str | None


class UserCreate(Create):
    email: Annotated[str, Field(max_length=254, examples=["ops@example.com"])]
    role: Role
    stores: list[str] = Field(default_factory=list, description="Store scope (store managers).")
    supplier_id: str | None = Field(None, description="The supplier a supplier's user acts for.")


class UserPublic(Public):
    id: int
    email: str
    role: Role
    stores: list[str]
    active: bool
    created_at: dt.datetime
    supplier_id: str | None = None


class UserCreated(Public):
    user: UserPublic
    password: str = Field(description="The one-time initial password; it is not shown again.")


class UsersPublic(Public):
    data: list[UserPublic]
    count: int


class KeyCreate(Create):
    kind: Literal["user", "write"]
    email: str | None = Field(None, description="For a user key: the user it acts as.")
    source: str | None = Field(None, description="For a write key: the source system.")
    expires_at: AwareDatetime | None = None


class KeyPublic(Public):
    prefix: str
    kind: Literal["user", "write"]
    user_id: int | None
    source: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class KeyCreated(Public):
    key: str = Field(description="The key itself; it is shown only this once.")
    prefix: str
    kind: Literal["user", "write"]
    expires_at: dt.datetime | None


class KeysPublic(Public):
    data: list[KeyPublic]
    count: int


class AuditEntryPublic(Public):
    id: int
    at: dt.datetime
    actor: str
    actor_user_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: dict[str, object]


class AuditPublic(Public):
    data: list[AuditEntryPublic]
    count: int


class SalesPublic(Public):
    currency: str
    paid_minor: int
    orders: int


class DaySalesPublic(SalesPublic):
    business_date: dt.date


class ChannelSalesPublic(SalesPublic):
    channel: str


class StoreOverviewPublic(Public):
    store_id: str
    first: dt.date
    last: dt.date
    totals: list[SalesPublic]
    active_members: int
    trend: list[DaySalesPublic]
    channels: list[ChannelSalesPublic]
