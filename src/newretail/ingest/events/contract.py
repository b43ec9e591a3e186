"""The versioned record intake puts on the stream; every consumer (lake flusher, OneID) reads this.

Changing a field is a deliberate contract change: bump :data:`VERSION` and keep reading the old one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newretail.ingest.events.payload import Kind

VERSION: Literal[1] = 1


class StoredEvent(BaseModel):
    """One accepted Segment message, normalised: snake_case names, UTC times, ids as strings.

    ``occurred_at`` is Segment's corrected ``timestamp``; ``extra`` holds unknown top-level fields.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = VERSION
    source: str
    message_id: str
    type: Kind
    received_at: AwareDatetime
    occurred_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    event: str | None = None
    name: str | None = None
    category: str | None = None
    group_id: str | None = None
    previous_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Unique per source, as the lake's key (source, message_id)."""
        return f"{self.source}:{self.message_id}"

    @property
    def person(self) -> str:
        """The person the real-time counters count under: user id, else the anonymous id."""
        return self.user_id or self.anonymous_id or ""

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_defaults=False).encode()

    @classmethod
    def from_bytes(cls, payload: bytes) -> StoredEvent:
        return cls.model_validate_json(payload)

    @property
    def business_date(self) -> dt.date:
        return self.occurred_at.astimezone(dt.UTC).date()
