"""One validated message on its way to the stream: the encoded :class:`StoredEvent` and what intake
needs beside it (the dedupe key, the counters' person and time) without decoding it again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Record:
    key: str  # the dedupe key, unique per source: "<source>:<message id>"
    message_id: str
    payload: bytes  # StoredEvent JSON, as StoredEvent.to_bytes() writes it
    person: str  # the user id, else the anonymous id
    occurred_at: dt.datetime
