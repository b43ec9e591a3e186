"""The event-log interface every backend fills in: durable append, consumer groups, ack, claim, trim."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from newretail.errors import NewRetailError


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of the log: ``id`` is opaque and ordered within the log; ``payload`` is the bytes."""

    id: str
    payload: bytes


class StreamUnavailable(NewRetailError):
    """The log cannot take or give records right now (server down, another writer); retry later."""

    http_status = 503


class EventLog(ABC):
    """An append-only log with consumer groups (the shape of Redis Streams).

    ``append`` returns only once every payload is durable, and a call's payloads are appended together.
    A consumer group sees every record once via :meth:`read`; a record stays *pending* until
    :meth:`ack`. Records a crashed consumer left pending come back through :meth:`claim`.
    """

    @abstractmethod
    def append(self, payloads: Sequence[bytes]) -> list[str]:
        """Append durably, in order; return the new entries' ids."""

    @abstractmethod
    def read(self, group: str, consumer: str, *, count: int) -> list[Entry]:
        """Up to ``count`` entries the group has not yet been given, oldest first."""

    @abstractmethod
    def ack(self, group: str, ids: Sequence[str]) -> None:
        """Mark entries as processed by the group; they will not be delivered to it again."""

    @abstractmethod
    def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        """Take over entries pending in the group for at least ``min_idle_ms`` (a crashed consumer's)."""

    @abstractmethod
    def trim(self) -> int:
        """Drop entries every group has acknowledged; return roughly how many went."""

    @abstractmethod
    def close(self) -> None:
        """Release files or connections."""
