"""Pydantic models of the Segment Spec messages: identify, track, page, screen, group and alias.

Field names are Segment's (``messageId``, ``anonymousId``...). Ids may be numbers, as the official
libraries stringify them; timestamps are ISO 8601 and become UTC (a naive one is taken as UTC).
Unknown top-level fields are allowed and kept, as Segment keeps them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic_core import PydanticCustomError

Kind = Literal["identify", "track", "page", "screen", "group", "alias"]
KINDS: tuple[Kind, ...] = ("identify", "track", "page", "screen", "group", "alias")


def segment_id(value: object) -> object:
    """An id as Segment's libraries send it: numbers become strings, an empty string is none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None if value == "" else value


def utc_time(value: object) -> object:
    """An ISO 8601 string as a UTC datetime (naive means UTC); anything else is an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_timestamp", "must be an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("invalid_timestamp", "is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


OptionalId = Annotated[str | None, BeforeValidator(segment_id)]
RequiredId = Annotated[str, BeforeValidator(segment_id), StringConstraints(min_length=1)]
Time = Annotated[dt.datetime | None, BeforeValidator(utc_time)]
Name = Annotated[str, StringConstraints(min_length=1)]
Json = dict[str, Any]


class Message(BaseModel):
    """Fields common to every message."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    message_id: OptionalId = Field(None, alias="messageId")
    user_id: OptionalId = Field(None, alias="userId")
    anonymous_id: OptionalId = Field(None, alias="anonymousId")
    timestamp: Time = None
    original_timestamp: Time = Field(None, alias="originalTimestamp")
    sent_at: Time = Field(None, alias="sentAt")
    context: Json = Field(default_factory=dict)
    integrations: Json = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identified(self) -> Message:
        if self.user_id is None and self.anonymous_id is None:
            raise PydanticCustomError("missing_identity", "userId or anonymousId is required")
        return self


class Track(Message):
    type: Literal["track"]
    event: Name
    properties: Json = Field(default_factory=dict)


class Page(Message):
    type: Literal["page"]
    name: str | None = None
    category: str | None = None
    properties: Json = Field(default_factory=dict)


class Screen(Message):
    type: Literal["screen"]
    name: str | None = None
    category: str | None = None
    properties: Json = Field(default_factory=dict)


class Identify(Message):
    type: Literal["identify"]
    traits: Json = Field(default_factory=dict)


class Group(Message):
    type: Literal["group"]
    group_id: RequiredId = Field(alias="groupId")
    traits: Json = Field(default_factory=dict)


class Alias(Message):
    type: Literal["alias"]
    user_id: RequiredId = Field(alias="userId")
    previous_id: RequiredId = Field(alias="previousId")


AnyMessage = Annotated[
    Track | Page | Screen | Identify | Group | Alias, Field(discriminator="type")
]
MESSAGE = TypeAdapter[Track | Page | Screen | Identify | Group | Alias](AnyMessage)
