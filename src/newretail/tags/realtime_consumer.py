"""The stream consumer behind real-time tags: events → signals → bitmaps of dense person ids.

Each pass (:meth:`RealtimeTagConsumer.step`) takes a batch from the event log in the consumer group
:data:`GROUP`, parses the stored events, resolves their users to persons (OneID's links) and the
persons to dense ids (the current snapshot's key map), applies the signals to the store in one
atomic batch, and only then acknowledges the batch. Events it cannot place are acknowledged and
counted in :class:`ConsumerStats` by reason: anonymous, a user OneID does not know, a person the
snapshot does not hold yet (new since the last refresh: skipped, not given a provisional id, since
ids are the refresh's to hand out), too old for the store or dated in the future.

Delivery is at least once, and redelivery changes nothing: setting and clearing bits is idempotent,
and a batch redelivered after a crash is replayed with everything after it, in log order, so each
person's last coupon event of a day still wins. A new consumer first claims whatever the group
left pending (:meth:`step` does on its first pass), so a takeover replays before reading on. The
caller runs one consumer per group at a time (the server's worker holds a leader lock).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from pydantic import ValidationError
from pyroaring import BitMap
from sqlalchemy import Engine

from newretail.ingest.events.contract import StoredEvent
from newretail.stream.base import Entry, EventLog
from newretail.tags.realtime import OPPOSITE, Signal, signals_of
from newretail.tags.realtime_people import SnapshotKeys, UserKey, persons_of_users
from newretail.tags.realtime_store import Change, RealtimeTagStore

log = logging.getLogger("newretail.tags.realtime")

GROUP = "tags-realtime"
BATCH = 2_000


@dataclass
class ConsumerStats:
    """Events handled since the consumer started, by outcome (every event has exactly one; a
    replayed event counts again)."""

    applied: int = 0  # raised signals for a person of the snapshot
    ignored: int = 0  # a type that raises none (group, alias)
    unreadable: int = 0  # not a StoredEvent
    anonymous: int = 0  # no userId
    unknown_user: int = 0  # a userId OneID links to no person
    not_in_snapshot: int = 0  # a person the current snapshot does not index yet
    too_old: int = 0  # dated before the store's retention
    future: int = 0  # dated after tomorrow

    @property
    def skipped(self) -> int:
        return self.total - self.applied - self.ignored

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class _Placed:
    user: UserKey
    day: dt.date
    signals: tuple[Signal, ...]


class RealtimeTagConsumer:
    """Consumes ``log`` into ``store``, resolving users in ``database`` (the OLTP store) and persons
    against the snapshots under ``index_dir``.

    >>> consumer = RealtimeTagConsumer(log=stores.log, store=store, database=engine,
    ...     index_dir=settings.index_dir, consumer="api-1")  # doctest: +SKIP
    >>> consumer.drain(today=dt.date(2026, 5, 1))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        log: EventLog,
        store: RealtimeTagStore,
        database: Engine,
        index_dir: Path,
        consumer: str,
        batch: int = BATCH,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self._log = log
        self._store = store
        self._database = database
        self._keys = SnapshotKeys(index_dir)
        self._consumer = consumer
        self.batch = batch
        self._claim_idle_ms = claim_idle_ms
        self._recovered = False
        self.stats = ConsumerStats()

    def step(self, *, today: dt.date) -> int:
        """One pass over at most one batch (pending entries first); the entries handled.

        ``today`` is the UTC date now: events older than the store keeps, or after tomorrow, are
        skipped. Before the first tag snapshot nothing is read (the group is not even created).
        """
        if self._keys.get() is None:
            return 0
        idle = self._claim_idle_ms if self._recovered else 0
        entries = self._log.claim(GROUP, self._consumer, min_idle_ms=idle, count=self.batch)
        if not entries:
            self._recovered = True
            entries = self._log.read(GROUP, self._consumer, count=self.batch)
        if not entries:
            return 0
        changes = self._changes(entries, today=today)
        self._store.apply(changes)
        self._log.ack(GROUP, [entry.id for entry in entries])
        log.debug("tags.realtime.pass entries=%d changes=%d", len(entries), len(changes))
        return len(entries)

    def drain(self, *, today: dt.date) -> int:
        """Pass until the log has nothing new for the group; the entries handled."""
        total = 0
        while handled := self.step(today=today):
            total += handled
        return total

    # -- internals ---------------------------------------------------------------------------
    def _changes(self, entries: Sequence[Entry], *, today: dt.date) -> list[Change]:
        placed = self._place(entries, today=today)
        with self._database.connect() as conn:
            persons = persons_of_users(conn, {p.user for p in placed})
        ids = self._keys.ids_of(set(persons.values()))
        flags: dict[tuple[Signal, dt.date], list[int]] = defaultdict(list)
        toggles: dict[tuple[dt.date, int], Signal] = {}  # the last toggle signal, in log order
        for event in placed:
            person = persons.get(event.user)
            if person is None:
                self.stats.unknown_user += 1
                continue
            dense_id = ids.get(person)
            if dense_id is None:
                self.stats.not_in_snapshot += 1
                continue
            self.stats.applied += 1
            for signal in event.signals:
                if signal in OPPOSITE:
                    toggles[(event.day, dense_id)] = signal
                else:
                    flags[(signal, event.day)].append(dense_id)
        changes = [Change(s, day, BitMap(members)) for (s, day), members in flags.items()]
        grouped: dict[tuple[Signal, dt.date], BitMap] = defaultdict(BitMap)
        for (day, dense_id), signal in toggles.items():
            grouped[(signal, day)].add(dense_id)
        for (signal, day), members in grouped.items():
            changes.append(Change(signal, day, members, True))
            changes.append(Change(OPPOSITE[signal], day, members, False))
        return changes

    def _place(self, entries: Sequence[Entry], *, today: dt.date) -> list[_Placed]:
        """The events that raise signals on a day the store keeps, with their user; the rest are
        counted."""
        oldest = today - dt.timedelta(days=self._store.keep_days)
        latest = today + dt.timedelta(days=1)  # a device clock a little ahead, near midnight
        placed: list[_Placed] = []
        for entry in entries:
            try:
                event = StoredEvent.from_bytes(entry.payload)
            except ValidationError:
                self.stats.unreadable += 1
                log.warning("tags.realtime.unreadable entry=%s", entry.id)
                continue
            signals = signals_of(event)
            day = event.business_date
            if not signals:
                self.stats.ignored += 1
            elif event.user_id is None:
                self.stats.anonymous += 1
            elif day < oldest:
                self.stats.too_old += 1
            elif day > latest:
                self.stats.future += 1
            else:
                placed.append(_Placed((event.source, event.user_id), day, signals))
        return placed
