"""The door of a sale: per-person and per-address rate limits, and a waiting room that gives callers a
place in a queue instead of an error when more arrive than the sale admits.

Every reservation attempt passes :meth:`Gate.admit` before it reaches the engine. The waiting room is
a virtual queue (GCRA, the generic cell rate algorithm): a sale admits ``admit_per_second`` callers,
with a burst of ``burst_ms`` worth of them. A caller who arrives when the schedule is full is given
the next free slot as a signed ticket, its position and a Retry-After; coming back with the ticket
at (or after) its slot admits it without queueing again, so callers are admitted in the order they
arrived. A ticket names its sale, person and slot and is signed with the platform's key, so any
server process checks it without shared state, and nobody can move a ticket forward or pass it on.
A ticket not used within :data:`TICKET_GRACE_MS` of its slot lapses: its holder queues again.

The schedule runs on the latest clock any caller has brought, not each caller's own: a request
delayed between reading the clock and reaching the gate (an event loop busy for a moment, another
server process ahead of it) is judged against the present, and is not queued for being late.

Limits count every attempt (a repeated click too) in one-second windows; a refused attempt touches
no stock. :class:`InProcessGate` holds its state in the process (one server); the Redis gate
(:mod:`~newretail.flashsale.redis_gate`) shares it between server processes. Times are milliseconds
since the epoch passed in as ``now_ms``: the gate never reads a clock.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

TICKET_GRACE_MS = 120_000
WINDOW_MS = 1_000


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """How many attempts a person and a client address may make per second, and how many callers a
    sale admits per second before its waiting room fills (across every server process)."""

    person_per_second: int = 5
    address_per_second: int = 50
    admit_per_second: int = 10_000
    burst_ms: int = 250

    @property
    def interval_ms(self) -> float:
        """Milliseconds of the schedule one admission takes."""
        return 1000 / self.admit_per_second


@dataclass(frozen=True, slots=True)
class Admitted:
    """Go on to the engine."""


@dataclass(frozen=True, slots=True)
class Limited:
    """Too many attempts from this person or address in the current second; nothing was queued."""

    scope: Literal["person", "address"]
    retry_after: int


@dataclass(frozen=True, slots=True)
class Waiting:
    """In the queue: come back with ``ticket`` after ``retry_after`` seconds; ``position`` is the
    caller's place in the queue (1: next)."""

    ticket: str
    position: int
    retry_after: int


@dataclass(frozen=True, slots=True)
class GateFigures:
    """For the live page: callers whose ticket is not due yet, attempts refused by a rate limit,
    and tickets handed out, since the sale was armed."""

    waiting: int
    rate_limited: int
    tickets: int


ADMITTED = Admitted()
Verdict = Admitted | Limited | Waiting


class Step(IntEnum):
    """What the hook is asked to do besides counting the attempt against the limits."""

    WALK_IN = 0  # admit on schedule, or hand out the next slot
    COUNT_ONLY = 1  # a ticket holder: its slot was booked when the ticket was issued


class Gate(ABC):
    """Rate limits and the waiting room; subclasses keep the counters and the schedule."""

    def __init__(self, policy: GatePolicy, *, ticket_key: bytes) -> None:
        self.policy = policy
        self._ticket_key = ticket_key

    async def admit(
        self,
        sale_id: str,
        *,
        person_id: str,
        address: str,
        ticket: str | None,
        now_ms: int,
        queue: bool = True,
    ) -> Verdict:
        """Whether this attempt may go on to the engine now.

        ``ticket`` is one this gate handed out earlier (or None); a forged, foreign or lapsed ticket
        counts as none, so its holder queues again. ``queue=False`` (the sale is not open: the
        engine will refuse the attempt) applies the rate limits only: an early click must not take
        a place in the queue.
        """
        slot = self._slot(ticket, sale_id, person_id) if ticket else None
        if slot is not None and now_ms > slot + TICKET_GRACE_MS:
            slot = None
        step = Step.WALK_IN if slot is None and queue else Step.COUNT_ONLY
        outcome, booked = await self._pass(sale_id, person_id, address, step, now_ms)
        if outcome == "person" or outcome == "address":
            return Limited(outcome, retry_after=1)
        if slot is not None and now_ms + self.policy.burst_ms < slot:
            assert ticket is not None
            return self._waiting(ticket, slot, now_ms)  # back too early: same place in the queue
        if outcome == "admitted":
            return ADMITTED
        return self._waiting(self._ticket(sale_id, person_id, booked), booked, now_ms)

    async def figures(self, sale_id: str, *, now_ms: int) -> GateFigures:
        """The waiting room's length now, and the attempts turned away so far."""
        tat, turned_away = await self._figures(sale_id)
        # Booked slots run up to one interval before the next free one (tat); those past what is
        # admitted now belong to callers still waiting.
        interval = self.policy.interval_ms
        booked_beyond = tat - interval - now_ms - self.policy.burst_ms
        return GateFigures(
            waiting=max(0, math.ceil(booked_beyond / interval)),
            rate_limited=turned_away.get("rate_limited", 0),
            tickets=turned_away.get("tickets", 0),
        )

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""

    # -- hooks -----------------------------------------------------------------------------
    @abstractmethod
    async def _pass(
        self, sale_id: str, person_id: str, address: str, step: Step, now_ms: int
    ) -> tuple[Literal["admitted", "person", "address", "queued"], int]:
        """Count the attempt; for a walk-in also admit it on schedule or book the next slot.

        Returns the outcome and, when queued, the slot (ms) booked for it.
        """

    @abstractmethod
    async def _figures(self, sale_id: str) -> tuple[float, Mapping[str, int]]:
        """The sale's theoretical arrival time (ms, when the schedule is free again) and its
        counters: ``rate_limited`` attempts and waiting-room ``tickets`` handed out."""

    # -- tickets ---------------------------------------------------------------------------
    def _waiting(self, ticket: str, slot: int, now_ms: int) -> Waiting:
        ahead = max(0, slot - now_ms - self.policy.burst_ms)
        return Waiting(
            ticket=ticket,
            position=math.ceil(ahead / self.policy.interval_ms),
            retry_after=max(1, math.ceil((slot - now_ms) / 1000)),
        )

    def _ticket(self, sale_id: str, person_id: str, slot: int) -> str:
        return f"{slot}.{self._signature(sale_id, person_id, slot)}"

    def _slot(self, ticket: str, sale_id: str, person_id: str) -> int | None:
        slot_text, _, signature = ticket.partition(".")
        if not slot_text.isdigit() or len(slot_text) > 15:
            return None
        slot = int(slot_text)
        expected = self._signature(sale_id, person_id, slot)
        return slot if hmac.compare_digest(signature, expected) else None

    def _signature(self, sale_id: str, person_id: str, slot: int) -> str:
        message = f"{sale_id}|{person_id}|{slot}".encode()
        return hmac.new(self._ticket_key, message, hashlib.sha256).hexdigest()[:32]


class InProcessGate(Gate):
    """The gate of a single server process; use it from one event loop."""

    def __init__(self, policy: GatePolicy, *, ticket_key: bytes) -> None:
        super().__init__(policy, ticket_key=ticket_key)
        self._tat: dict[str, float] = {}
        self._latest: dict[str, int] = {}
        self._window = -1
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._turned_away: dict[str, Counter[str]] = {}

    async def _pass(
        self, sale_id: str, person_id: str, address: str, step: Step, now_ms: int
    ) -> tuple[Literal["admitted", "person", "address", "queued"], int]:
        window = now_ms // WINDOW_MS
        if window != self._window:  # a new second: last second's counts are of no more use
            self._window = window
            self._attempts = Counter()
        attempts = self._attempts
        turned_away = self._turned_away.setdefault(sale_id, Counter())
        attempts[(sale_id, person_id)] += 1
        if attempts[(sale_id, person_id)] > self.policy.person_per_second:
            turned_away["rate_limited"] += 1
            return "person", 0
        attempts[("", address)] += 1
        if attempts[("", address)] > self.policy.address_per_second:
            turned_away["rate_limited"] += 1
            return "address", 0
        if step is Step.COUNT_ONLY:
            return "admitted", 0
        now = self._latest[sale_id] = max(self._latest.get(sale_id, 0), now_ms)
        tat = max(self._tat.get(sale_id, 0.0), float(now))
        self._tat[sale_id] = tat + self.policy.interval_ms
        if tat - now <= self.policy.burst_ms:
            return "admitted", 0
        turned_away["tickets"] += 1
        return "queued", math.ceil(tat)

    async def _figures(self, sale_id: str) -> tuple[float, Mapping[str, int]]:
        return self._tat.get(sale_id, 0.0), self._turned_away.get(sale_id, Counter())

    async def aclose(self) -> None:
        return None  # nothing held open
