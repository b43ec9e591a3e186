"""Memberships: a person's enrolment in a scheme (one per scheme), found by id, by scheme and person,
or for a person; and OneID resolution of the person a channel's shopper is."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.identity.manual import live_person, person_of
from newretail.loyalty.schemes import Scheme, get_scheme
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import (
    identity_links,
    identity_persons,
    membership_events,
    memberships,
)

_M = memberships


@dataclass(frozen=True, slots=True)
class Membership:
    id: int
    scheme_id: str
    person_id: str
    tier: str
    tier_since: dt.datetime
    status: str
    joined_at: dt.datetime
    joined_channel: str


@dataclass(frozen=True, slots=True)
class MembershipEvent:
    """One thing that happened to a membership: joined, tier_up, tier_down, paid_started, ..."""

    id: int
    membership_id: int
    kind: str
    natural_key: str
    detail: dict[str, object]
    actor: str
    at: dt.datetime


def enrol(
    conn: Connection, scheme_id: str, person_id: str, *, channel: str, actor: str, now: dt.datetime
) -> Membership:
    """Enrol a person in a free scheme through one of its channels; enrolling again returns the
    membership there is (joined first, wherever that was).

    ``person_id`` is a live OneID person: resolve a shopper with :func:`resolve_person` first. A paid
    scheme is joined by buying it (``loyalty.paid.buy_paid``), so it is refused here.
    """
    scheme = get_scheme(conn, scheme_id)
    if scheme.kind == "paid":
        raise InvalidInput(
            "loyalty.scheme_paid", f"scheme {scheme_id} is joined by buying it", field="scheme_id"
        )
    return join(conn, scheme, person_id, channel=channel, actor=actor, now=now)


def join(
    conn: Connection, scheme: Scheme, person_id: str, *, channel: str, actor: str, now: dt.datetime
) -> Membership:
    """The person's membership of ``scheme``, created (tier: the ladder's first) if there is none."""
    existing = membership_of(conn, scheme.id, person_id)
    if existing is not None:
        return existing
    if not scheme.active:
        raise Conflict("loyalty.scheme_inactive", f"scheme {scheme.id} is not open to new members")
    if channel not in scheme.rules.channels:
        raise InvalidInput(
            "loyalty.channel_not_covered",
            f"scheme {scheme.id} does not enrol through {channel}",
            field="channel",
        )
    values = {
        "scheme_id": scheme.id,
        "person_id": person_id,
        "tier": scheme.rules.tiers[0].id,
        "tier_since": now,
        "status": "active",
        "joined_at": now,
        "joined_channel": channel,
    }
    # Two channels enrolling one person at once: the unique (scheme, person) lets one insert win.
    inserted = insert_if_absent(conn, _M, values, unique=["scheme_id", "person_id"])
    membership = membership_of(conn, scheme.id, person_id)
    assert membership is not None
    if inserted:
        add_event(
            conn,
            membership.id,
            kind="joined",
            natural_key="joined",
            detail={"channel": channel, "tier": membership.tier},
            actor=actor,
            now=now,
        )
    return membership


def get_membership(conn: Connection, membership_id: int) -> Membership:
    """The membership, or NotFound ``membership.unknown``."""
    row = conn.execute(select(_M).where(_M.c.id == membership_id)).mappings().first()
    if row is None:
        raise NotFound(
            "membership.unknown", f"no membership {membership_id}", field="membership_id"
        )
    return _membership(row)


def membership_of(conn: Connection, scheme_id: str, person_id: str) -> Membership | None:
    query = select(_M).where(_M.c.scheme_id == scheme_id, _M.c.person_id == person_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _membership(row)


def members_by_tier(conn: Connection) -> dict[tuple[str, str], int]:
    """Active memberships per (scheme, tier)."""
    m = memberships
    query = (
        select(m.c.scheme_id, m.c.tier, func.count())
        .where(m.c.status == "active")
        .group_by(m.c.scheme_id, m.c.tier)
    )
    return {(scheme, tier): int(count) for scheme, tier, count in conn.execute(query)}


def memberships_of(conn: Connection, person_id: str) -> list[Membership]:
    """Every membership the person holds, oldest first."""
    query = select(_M).where(_M.c.person_id == person_id).order_by(_M.c.joined_at, _M.c.id)
    return [_membership(row) for row in conn.execute(query).mappings()]


def events_of(conn: Connection, membership_id: int) -> list[MembershipEvent]:
    """The membership's events, oldest first."""
    e = membership_events
    query = select(e).where(e.c.membership_id == membership_id).order_by(e.c.at, e.c.id)
    return [
        MembershipEvent(
            id=int(row["id"]),
            membership_id=int(row["membership_id"]),
            kind=row["kind"],
            natural_key=row["natural_key"],
            detail=dict(row["detail"]),
            actor=row["actor"],
            at=row["at"],
        )
        for row in conn.execute(query).mappings()
    ]


def resolve_person(
    conn: Connection,
    *,
    person_id: str | None = None,
    source: str | None = None,
    source_record_id: str | None = None,
) -> str:
    """The live OneID person meant by a person id or by a source record (``pos``, a card number).

    A person merged into another resolves to the one it was merged into. Give either ``person_id``
    or both ``source`` and ``source_record_id``; NotFound ``person.unknown`` when neither is known.
    """
    if person_id is not None and source is None and source_record_id is None:
        start = person_id
        field = "person_id"
    elif person_id is None and source is not None and source_record_id is not None:
        linked = person_of(conn, source, source_record_id)
        if linked is None:
            raise NotFound(
                "person.unknown",
                f"no person holds {source} record {source_record_id}",
                field="source_record_id",
            )
        start, field = linked, "source_record_id"
    else:
        raise InvalidInput(
            "person.bad_reference",
            "give person_id, or source and source_record_id",
            field="person_id",
        )
    try:
        return live_person(conn, start)
    except NotFound:
        # A person known only by its links (no person row yet) is live, as real-time OneID treats it.
        query = select(identity_links.c.person_id).where(identity_links.c.person_id == start)
        if conn.execute(query.limit(1)).first() is not None:
            return start
        raise NotFound("person.unknown", f"no person {start}", field=field) from None


def person_and_membership(
    conn: Connection,
    scheme_id: str | None,
    *,
    person_id: str | None = None,
    source: str | None = None,
    source_record_id: str | None = None,
) -> tuple[str, Membership | None]:
    """:func:`resolve_person`, and that person's membership of ``scheme_id`` (None without a
    scheme): one statement for a person who was never merged into another."""
    by_id = person_id is not None and source is None and source_record_id is None
    by_record = person_id is None and source is not None and source_record_id is not None
    row = None
    if by_id or by_record:
        query = _resolution(by_record=by_record, with_scheme=scheme_id is not None)
        values = {"person_id": person_id, "source": source, "record": source_record_id}
        row = conn.execute(query, {**values, "scheme_id": scheme_id}).mappings().first()
    # A record's person without a person row (a null status) is live, as resolve_person has it;
    # unknown, bad or merged references take the long way (and its refusals).
    if row is None or (row["status"] == "retired" and row["retired_into"] is not None):
        person = resolve_person(
            conn, person_id=person_id, source=source, source_record_id=source_record_id
        )
        return person, membership_of(conn, scheme_id, person) if scheme_id is not None else None
    if scheme_id is None or row["m_id"] is None:
        return row["start"], None
    return row["start"], _membership({c.name: row[f"m_{c.name}"] for c in _M.c})


@functools.cache
def _resolution(*, by_record: bool, with_scheme: bool) -> Select[Any]:
    """The person a reference starts at, its status and, with a scheme, its membership's columns
    (prefixed ``m_``): built once per shape, as every order runs one."""
    p, link = identity_persons.c, identity_links.c
    start = link.person_id if by_record else p.person_id
    query = select(start.label("start"), p.status, p.retired_into)
    if by_record:
        query = query.select_from(
            identity_links.outerjoin(identity_persons, p.person_id == start)
        ).where(link.source == bindparam("source"), link.source_record_id == bindparam("record"))
    else:
        query = query.where(start == bindparam("person_id"))
    if with_scheme:
        query = query.outerjoin(
            _M, (_M.c.person_id == start) & (_M.c.scheme_id == bindparam("scheme_id"))
        ).add_columns(*(column.label(f"m_{column.name}") for column in _M.c))
    return query


def add_event(
    conn: Connection,
    membership_id: int,
    *,
    kind: str,
    natural_key: str,
    detail: dict[str, object],
    actor: str,
    now: dt.datetime,
) -> bool:
    """Append a membership event unless one with that natural key exists; True if appended."""
    values = {
        "membership_id": membership_id,
        "kind": kind,
        "natural_key": natural_key,
        "detail": detail,
        "actor": actor,
        "at": now,
    }
    return insert_if_absent(
        conn, membership_events, values, unique=["membership_id", "natural_key"]
    )


def _membership(row: Any) -> Membership:
    return Membership(
        id=int(row["id"]),
        scheme_id=row["scheme_id"],
        person_id=row["person_id"],
        tier=row["tier"],
        tier_since=row["tier_since"],
        status=row["status"],
        joined_at=row["joined_at"],
        joined_channel=row["joined_channel"],
    )
