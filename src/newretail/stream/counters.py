"""Real-time counters per person (last seen, events per UTC day): the interface and the in-memory twin.

A person is the event's ``user_id``, or its ``anonymous_id`` before login. Counters are hot state,
rebuildable from the log; the in-memory twin lives and dies with its process.
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass, field

KEEP_DAYS = 8  # days of per-day counts kept per person (a week back, plus today)


@dataclass(frozen=True)
class Activity:
    """What the counters know of one person: ``last_seen`` is the latest event time seen."""

    last_seen: dt.datetime | None
    events_on_day: int


Hit = tuple[str, dt.datetime]  # (person, when the event occurred, timezone-aware)


def tally(hits: Iterable[Hit]) -> tuple[dict[str, dt.datetime], Tally[tuple[str, dt.date]]]:
    """Latest time per person and event count per (person, UTC day)."""
    latest: dict[str, dt.datetime] = {}
    days: Tally[tuple[str, dt.date]] = Tally()
    for person, at in hits:
        at = at.astimezone(dt.UTC)
        if person not in latest or at > latest[person]:
            latest[person] = at
        days[(person, at.date())] += 1
    return latest, days


class Counters(ABC):
    """Counts events per person; writes come from intake, reads from the API."""

    @abstractmethod
    def record(self, hits: Iterable[Hit]) -> None:
        """Count one event per hit."""

    @abstractmethod
    def activity(self, person: str, *, day: dt.date) -> Activity:
        """The person's last-seen time and their number of events on UTC ``day``."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


@dataclass
class _Person:
    last_seen: dt.datetime
    days: dict[dt.date, int] = field(default_factory=dict)


class MemoryCounters(Counters):
    """Counters in a dict behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._people: dict[str, _Person] = {}

    def record(self, hits: Iterable[Hit]) -> None:
        latest, days = tally(hits)
        with self._lock:
            for person, at in latest.items():
                state = self._people.setdefault(person, _Person(last_seen=at))
                state.last_seen = max(state.last_seen, at)
            for (person, day), n in days.items():
                counts = self._people[person].days
                counts[day] = counts.get(day, 0) + n
                floor = max(counts) - dt.timedelta(days=KEEP_DAYS)
                for old in [d for d in counts if d < floor]:
                    del counts[old]

    def activity(self, person: str, *, day: dt.date) -> Activity:
        with self._lock:
            state = self._people.get(person)
            if state is None:
                return Activity(last_seen=None, events_on_day=0)
            return Activity(last_seen=state.last_seen, events_on_day=state.days.get(day, 0))

    def close(self) -> None:
        with self._lock:
            self._people.clear()
