"""The gate, on Redis and in process alike: rate limits per person and per address in one-second
windows, and the waiting room: callers beyond the sale's admission rate get a signed ticket, a
position and a Retry-After, and are admitted in the order they came when they return."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from tests.unit.stream.backends import REDIS_URL, require_redis

from newretail.flashsale import ADMITTED, Gate, GatePolicy, InProcessGate, Limited, Waiting
from newretail.flashsale.gate import TICKET_GRACE_MS

KEY = b"k" * 32
T0 = 1_800_000_000_000  # ms; a second boundary
POLICY = GatePolicy(person_per_second=3, address_per_second=5, admit_per_second=10, burst_ms=100)


def open_gate(kind: str, policy: GatePolicy = POLICY, key: bytes = KEY) -> Gate:
    if kind == "redis":
        from redis.asyncio import Redis

        from newretail.flashsale.redis_gate import RedisGate

        prefix = f"nrtest:{uuid.uuid4().hex}:"
        return RedisGate(Redis.from_url(REDIS_URL), policy, ticket_key=key, prefix=prefix)
    return InProcessGate(policy, ticket_key=key)


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
def kind(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis":
        require_redis()
    yield request.param


def run(gate: Gate, *calls: tuple[str, str, str | None, int]) -> list[object]:
    """Each call is (person, address, ticket, now_ms) on sale fs-1, in order, in one event loop."""

    async def go() -> list[object]:
        try:
            return [
                await gate.admit("fs-1", person_id=p, address=a, ticket=t, now_ms=n)
                for p, a, t, n in calls
            ]
        finally:
            await gate.aclose()

    return asyncio.run(go())


def test_a_person_over_the_limit_is_told_to_retry_and_the_next_second_is_fresh(kind: str) -> None:
    gate = open_gate(kind, GatePolicy(person_per_second=3, address_per_second=100))
    calls = [("p1", f"10.0.0.{i}", None, T0 + i) for i in range(4)]
    calls.append(("p1", "10.0.0.9", None, T0 + 1_000))
    verdicts = run(gate, *calls)
    assert verdicts[:3] == [ADMITTED] * 3
    assert verdicts[3] == Limited("person", retry_after=1)
    assert verdicts[4] is ADMITTED or verdicts[4] == ADMITTED


def test_an_address_over_its_limit_is_refused_whoever_it_sends_for(kind: str) -> None:
    gate = open_gate(kind, GatePolicy(person_per_second=100, address_per_second=5))
    verdicts = run(gate, *[(f"p{i}", "10.0.0.1", None, T0) for i in range(7)])
    assert verdicts[:5] == [ADMITTED] * 5
    assert verdicts[5:] == [Limited("address", retry_after=1)] * 2


def test_callers_beyond_the_rate_wait_in_order_and_enter_with_their_ticket(kind: str) -> None:
    # 10 a second with a burst of 100 ms: 2 enter at once, then one slot every 100 ms.
    gate = open_gate(kind)
    first = run(
        open_gate(kind) if False else gate, *[(f"p{i}", f"a{i}", None, T0) for i in range(5)]
    )
    assert first[:2] == [ADMITTED] * 2
    waiting = first[2:]
    assert all(isinstance(w, Waiting) for w in waiting)
    assert [w.position for w in waiting] == [1, 2, 3]  # type: ignore[union-attr]
    assert all(w.retry_after == 1 for w in waiting)  # type: ignore[union-attr]
    tickets = [w.ticket for w in waiting]  # type: ignore[union-attr]
    slots = [int(t.split(".")[0]) for t in tickets]
    assert slots == sorted(slots) and len(set(slots)) == 3


def test_a_ticket_admits_its_holder_at_its_slot_and_not_before(kind: str) -> None:
    gate = open_gate(kind)

    async def go() -> list[object]:
        try:
            out: list[object] = []
            for i in range(3):
                out.append(
                    await gate.admit("fs-1", person_id=f"p{i}", address="a", ticket=None, now_ms=T0)
                )
            ticket = out[2].ticket  # type: ignore[union-attr]
            slot = int(ticket.split(".")[0])
            early = await gate.admit(
                "fs-1", person_id="p2", address="b", ticket=ticket, now_ms=T0 + 1
            )
            due = await gate.admit(
                "fs-1", person_id="p2", address="c", ticket=ticket, now_ms=slot - POLICY.burst_ms
            )
            stolen = await gate.admit(
                "fs-1", person_id="p9", address="d", ticket=ticket, now_ms=T0 + 2
            )
            forged = await gate.admit(
                "fs-1", person_id="p8", address="e", ticket=f"{T0}.{'0' * 32}", now_ms=T0 + 3
            )
            lapsed = await gate.admit(
                "fs-1",
                person_id="p2",
                address="f",
                ticket=ticket,
                now_ms=slot + TICKET_GRACE_MS + 1,
            )
            out += [early, due, stolen, forged, lapsed]
            return out
        finally:
            await gate.aclose()

    _, _, queued, early, due, stolen, forged, lapsed = asyncio.run(go())
    assert isinstance(early, Waiting) and early.ticket == queued.ticket  # type: ignore[union-attr]
    assert due is ADMITTED or due == ADMITTED
    # Another person's ticket and a forged one are no ticket: to the back of the queue.
    for walk_in in (stolen, forged):
        assert isinstance(walk_in, Waiting) and walk_in.ticket != queued.ticket  # type: ignore[union-attr]
    assert lapsed == ADMITTED  # long after the rush: the schedule is free again


def test_figures_count_the_queue_and_the_refusals(kind: str) -> None:
    gate = open_gate(
        kind,
        GatePolicy(person_per_second=1, address_per_second=100, admit_per_second=10, burst_ms=100),
    )

    async def go() -> tuple[object, object]:
        try:
            for i in range(6):
                await gate.admit("fs-1", person_id=f"p{i}", address="a", ticket=None, now_ms=T0)
            await gate.admit("fs-1", person_id="p0", address="a", ticket=None, now_ms=T0)
            return (
                await gate.figures("fs-1", now_ms=T0),
                await gate.figures("fs-1", now_ms=T0 + 10_000),
            )
        finally:
            await gate.aclose()

    now, later = asyncio.run(go())
    assert (now.waiting, now.rate_limited, now.tickets) == (4, 1, 4)  # type: ignore[attr-defined]
    assert (later.waiting, later.tickets) == (0, 4)  # type: ignore[attr-defined]


def test_tickets_of_another_key_are_not_honoured() -> None:
    async def go() -> object:
        issuer = InProcessGate(POLICY, ticket_key=KEY)
        verdicts = [
            await issuer.admit("fs-1", person_id=f"p{i}", address="a", ticket=None, now_ms=T0)
            for i in range(3)
        ]
        ticket = verdicts[2].ticket  # type: ignore[union-attr]
        other = InProcessGate(POLICY, ticket_key=b"x" * 32)
        slot = int(ticket.split(".")[0])
        return await other.admit("fs-1", person_id="p2", address="a", ticket=ticket, now_ms=slot)

    # The other process's schedule is empty, so as a walk-in it enters: the ticket played no part.
    assert asyncio.run(go()) == ADMITTED
