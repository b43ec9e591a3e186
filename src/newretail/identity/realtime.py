"""Real-time OneID: resolve identifiers to a person at once, and import member records from ERP, POS and
WeChat. Nothing here merges persons; the nightly batch confirms, merges or splits what it decided."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.identity.identifiers import (
    LINK_COLUMNS,
    TYPES,
    Identifier,
    MemberRecord,
    parse_identifiers,
    parse_member,
    record_attributes,
)
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import (
    identity_api_records,
    identity_demoted,
    identity_links,
    identity_persons,
)
from newretail.security.pii import PiiProtector

IMPORT_SOURCES = ("erp", "pos", "wechat", "mini_program")
MAX_MEMBERS = 1_000
# The source of a record that a resolve call's identifiers describe when none of them names one.
API_SOURCE = "api"
_KEY = ["source", "source_record_id"]
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_STRENGTH = {"unionid": 2, "phone": 1, "email": 0}
_RECORD_STRENGTH = 3
_ATTEMPTS = 5
_MAX_HOPS = 32
_L = identity_links


@dataclass(frozen=True, slots=True)
class Resolution:
    """The person identifiers resolve to. ``matched_by``: the identifier types that point at it,
    strongest first; ``conflicts``: other persons they point at, left for the nightly batch."""

    person_id: str
    status: str  # active or provisional
    created: bool
    matched_by: list[str]
    conflicts: list[str]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Records ``created`` or ``updated``; of the records not linked before, how many were
    ``linked`` to an existing person and how many got a new ``provisional`` one."""

    created: int
    updated: int
    linked: int
    provisional: int


def resolve(
    conn: Connection,
    identifiers: Sequence[Mapping[str, object]],
    *,
    protector: PiiProtector,
    now: dt.datetime,
    create: bool = True,
) -> Resolution:
    """The person ``identifiers`` (``{"type": "phone", "value": ...}``...) belong to.

    Several persons: the one the strongest identifier names (record id > unionid > phone > e-mail;
    then the one with most records), the others as ``conflicts``. None: with ``create`` a provisional
    person with a record for each record id given, or else one record of source ``api`` keyed by
    the strongest identifier (``phone:<hmac>``); without ``create``, :class:`NotFound`
    ``identity.no_person``. With ``create``, record ids no link knew join the person found. Demoted
    identifier values never link. Runs in ``conn``'s transaction; the caller commits.
    """
    parsed = parse_identifiers(identifiers, protector=protector)
    demoted = _demoted(conn, parsed)
    for _ in range(_ATTEMPTS):
        found = _find(conn, parsed, demoted)
        if found is not None:
            resolution, hit = found
            if create:
                _link_new_records(conn, parsed, hit, resolution, now=now)
            return resolution
        if not create:
            raise NotFound("identity.no_person", "no person has these identifiers")
        records = _new_records(parsed, demoted)
        links = [_link_row(r, parsed, kind="single", reason="resolve", now=now) for r in records]
        person_id = _new_person(conn, links, origin="resolve", now=now)
        if person_id is not None:
            for record in records:
                _store_record(conn, record, parsed, now=now)
            return Resolution(person_id, "provisional", True, [], [])
    raise Conflict("identity.contended", "these identifiers are being changed concurrently; retry")


def import_members(
    conn: Connection,
    source: str,
    members: Sequence[Mapping[str, object]],
    *,
    protector: PiiProtector,
    now: dt.datetime,
) -> ImportResult:
    """Create or replace ``source``'s member records and link each as :func:`resolve` would.

    Every member is checked before anything is written: one bad member refuses the whole batch with
    :class:`InvalidInput` naming it (``members[3].phone``). An update replaces the whole record.
    """
    if source not in IMPORT_SOURCES:
        raise InvalidInput(
            "identity.unknown_source",
            f"members are imported from {', '.join(IMPORT_SOURCES)}",
            field="source",
        )
    if not 1 <= len(members) <= MAX_MEMBERS:
        raise InvalidInput(
            "identity.batch_size", f"send 1 to {MAX_MEMBERS} members per call", field="members"
        )
    records: dict[str, MemberRecord] = {}
    for i, raw in enumerate(members):
        where = f"members[{i}]"
        record = parse_member(raw, source=source, protector=protector, now=now, where=where)
        if record.source_record_id in records:
            raise InvalidInput(
                "identity.duplicate_member",
                "another member in this batch has the same source_record_id",
                field=f"{where}.source_record_id",
            )
        records[record.source_record_id] = record
    demoted = _demoted(conn, [i for record in records.values() for i in record.identifiers])
    counts: Counter[str] = Counter()
    # In a fixed order, so two imports that share members never wait on each other crosswise.
    for record_id in sorted(records):
        record = records[record_id]
        counts["created" if _upsert_record(conn, record, now=now) else "updated"] += 1
        counts[_link_member(conn, record, demoted, now=now)] += 1
    return ImportResult(
        counts["created"], counts["updated"], counts["linked"], counts["provisional"]
    )


def provisional_person_id() -> str:
    """A random person id: "P" and 12 base32 characters (60 bits)."""
    return "P" + "".join(secrets.choice(_BASE32) for _ in range(12))


def _find(
    conn: Connection, identifiers: list[Identifier], demoted: set[tuple[str, str]]
) -> tuple[Resolution, set[Identifier]] | None:
    """The resolution, and every identifier that matched a person; None when none did."""
    hits = _hits(conn, identifiers, demoted)
    if not hits:
        return None
    live = live_persons(conn, {person for _, person in hits})
    found: dict[str, set[Identifier]] = {}
    for identifier, person in hits:
        found.setdefault(live[person][0], set()).add(identifier)
    counts = _link_counts(conn, list(found)) if len(found) > 1 else {}
    ranked = sorted(found, key=lambda p: (-_strength(found[p]), -counts.get(p, 0), p))
    chosen = ranked[0]
    matched = sorted({i.type for i in found[chosen]}, key=TYPES.index)
    status = next(status for person, status in live.values() if person == chosen)
    resolution = Resolution(chosen, status, False, matched, ranked[1:])
    return resolution, {identifier for identifier, _ in hits}


def _hits(
    conn: Connection, identifiers: list[Identifier], demoted: set[tuple[str, str]]
) -> list[tuple[Identifier, str]]:
    """(identifier, person) for every link an identifier points at."""
    hits: list[tuple[Identifier, str]] = []
    named = {i.record: i for i in identifiers if i.record is not None}
    if named:
        keys = or_(*(and_(_L.c.source == s, _L.c.source_record_id == r) for s, r in named))
        rows = conn.execute(select(_L.c.source, _L.c.source_record_id, _L.c.person_id).where(keys))
        hits.extend((named[(source, record_id)], person) for source, record_id, person in rows)
    shared = [i for i in identifiers if i.type in LINK_COLUMNS and (i.type, i.value) not in demoted]
    if shared:
        wanted = or_(*(_L.c[LINK_COLUMNS[i.type]] == i.value for i in shared))
        columns = [_L.c[column] for column in LINK_COLUMNS.values()]
        for row in conn.execute(select(_L.c.person_id, *columns).where(wanted)).mappings():
            hits.extend(
                (i, row["person_id"]) for i in shared if row[LINK_COLUMNS[i.type]] == i.value
            )
    return hits


def _demoted(conn: Connection, identifiers: list[Identifier]) -> set[tuple[str, str]]:
    """The (kind, value) pairs among ``identifiers`` that the batch demoted from linking."""
    table = identity_demoted
    by_kind: dict[str, set[str]] = {}
    for identifier in identifiers:
        if identifier.type in LINK_COLUMNS:
            by_kind.setdefault(identifier.type, set()).add(identifier.value)
    if not by_kind:
        return set()
    # One IN list per kind: an import's thousands of values stay one shallow expression.
    wanted = or_(*(and_(table.c.kind == k, table.c.value.in_(v)) for k, v in by_kind.items()))
    rows = conn.execute(select(table.c.kind, table.c.value).where(wanted))
    return {(kind, value) for kind, value in rows}


def live_persons(conn: Connection, ids: set[str]) -> dict[str, tuple[str, str]]:
    """Each person id → (the live person it is or was merged into, that person's status)."""
    table = identity_persons
    known: dict[str, tuple[str, str | None]] = {}
    wanted = set(ids)
    for _ in range(_MAX_HOPS):
        wanted -= known.keys()
        if not wanted:
            break
        query = select(table.c.person_id, table.c.status, table.c.retired_into)
        rows = conn.execute(query.where(table.c.person_id.in_(wanted))).all()
        known.update({person: (status, into) for person, status, into in rows})
        # A link whose person has no row is still a link; treat its person as live.
        known.update(dict.fromkeys(wanted - known.keys(), ("active", None)))
        wanted = {into for status, into in known.values() if status == "retired" and into}
    return {person: _follow(person, known) for person in ids}


def _follow(person: str, known: Mapping[str, tuple[str, str | None]]) -> tuple[str, str]:
    seen = {person}
    status, into = known[person]
    while status == "retired":
        if into is None or into in seen or into not in known:
            raise Conflict(
                "identity.broken_chain", f"person {person} is retired with no live successor"
            )
        seen.add(into)
        person = into
        status, into = known[person]
    return person, status


def _link_counts(conn: Connection, persons: list[str]) -> dict[str, int]:
    query = select(_L.c.person_id, func.count()).where(_L.c.person_id.in_(persons))
    return {person: int(n) for person, n in conn.execute(query.group_by(_L.c.person_id))}


def _strength(identifiers: set[Identifier]) -> int:
    return max(_STRENGTH.get(i.type, _RECORD_STRENGTH) for i in identifiers)


def _new_records(
    identifiers: list[Identifier], demoted: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The records a new person gets: one per record id given. Without a record id, one ``api``
    record keyed by the strongest usable identifier (``phone:<hmac>``): two callers resolving the
    same new phone at once then claim the same key, and one waits for the other's person. When every
    identifier is demoted nothing may link the record, so its key is random."""
    named = [i.record for i in identifiers if i.record is not None]
    if named:
        return sorted(set(named))
    usable = [i for i in identifiers if (i.type, i.value) not in demoted]
    if usable:
        strongest = min(usable, key=lambda i: TYPES.index(i.type))
        return [(API_SOURCE, f"{strongest.type}:{strongest.value}")]
    return [(API_SOURCE, f"anonymous:{secrets.token_hex(16)}")]


def _new_person(
    conn: Connection, links: list[dict[str, object]], *, origin: str, now: dt.datetime
) -> str | None:
    """A provisional person holding ``links``; None (and nothing written) when another caller linked
    one of the records first. The links' primary key is the race guard."""
    person_id = provisional_person_id()
    savepoint = conn.begin_nested()
    try:
        for link in links:
            row = {**link, "person_id": person_id}
            if not insert_if_absent(conn, _L, row, unique=_KEY):
                savepoint.rollback()
                return None
        person = {"person_id": person_id, "status": "provisional", "origin": origin}
        conn.execute(
            insert(identity_persons).values({**person, "created_at": now, "updated_at": now})
        )
    except IntegrityError:
        # The random id was issued before: the caller's retry draws another.
        savepoint.rollback()
        return None
    savepoint.commit()
    return person_id


def _link_new_records(
    conn: Connection,
    identifiers: list[Identifier],
    hit: set[Identifier],
    resolution: Resolution,
    *,
    now: dt.datetime,
) -> None:
    """Link the record ids no link knew to the person found, so that each resolves alone next time."""
    reason = "+".join(resolution.matched_by)
    for identifier in identifiers:
        record = identifier.record
        if record is None or identifier in hit:
            continue
        row = _link_row(record, identifiers, kind="identifier", reason=reason, now=now)
        if insert_if_absent(conn, _L, {**row, "person_id": resolution.person_id}, unique=_KEY):
            _store_record(conn, record, identifiers, now=now)


def _link_row(
    record: tuple[str, str],
    identifiers: Sequence[Identifier],
    *,
    kind: str,
    reason: str,
    now: dt.datetime,
) -> dict[str, object]:
    """An identity_links row for ``record``, without its person; ``kind`` is the reason_kind."""
    row: dict[str, object] = {
        "source": record[0],
        "source_record_id": record[1],
        "reason_kind": kind,
        "reason": reason,
        "match_weight": None,
        "origin": "api",
        "run_id": None,
        "linked_at": now,
    }
    for type_, column in LINK_COLUMNS.items():
        row[column] = next((i.value for i in identifiers if i.type == type_), None)
    return row


def _store_record(
    conn: Connection,
    record: tuple[str, str],
    identifiers: Sequence[Identifier],
    *,
    now: dt.datetime,
) -> None:
    """The member record a resolve call's identifiers describe, for the batch to link it too."""
    attributes = record_attributes(*record, identifiers, now=now)
    row = {"source": record[0], "source_record_id": record[1], "attributes": attributes}
    insert_if_absent(
        conn, identity_api_records, {**row, "created_at": now, "updated_at": now}, unique=_KEY
    )


def _upsert_record(conn: Connection, record: MemberRecord, *, now: dt.datetime) -> bool:
    """Write an imported record; True when it is new. A sender that gives no ``created_at`` keeps
    the stored one (or gets ``now``)."""
    table = identity_api_records
    key = and_(table.c.source == record.source, table.c.source_record_id == record.source_record_id)
    stored = conn.execute(select(table.c.attributes).where(key)).scalar_one_or_none()
    attributes = dict(record.attributes)
    if attributes["created_at"] is None:
        kept = stored.get("created_at") if isinstance(stored, dict) else None
        attributes["created_at"] = kept or now.isoformat()
    if stored is None:
        row = {"source": record.source, "source_record_id": record.source_record_id}
        values = {**row, "attributes": attributes, "created_at": now, "updated_at": now}
        if insert_if_absent(conn, table, values, unique=_KEY):
            return True
    conn.execute(update(table).where(key).values(attributes=attributes, updated_at=now))
    return False


def _link_member(
    conn: Connection, record: MemberRecord, demoted: set[tuple[str, str]], *, now: dt.datetime
) -> str:
    """How the record was linked: ``kept`` (it was linked already), ``linked`` or ``provisional``."""
    key = (record.source, record.source_record_id)
    for _ in range(_ATTEMPTS):
        if _refresh_link(conn, key, record.identifiers):
            return "kept"
        found = _find(conn, record.identifiers, demoted)
        if found is not None:
            resolution = found[0]
            reason = "+".join(resolution.matched_by)
            row = _link_row(key, record.identifiers, kind="identifier", reason=reason, now=now)
            if insert_if_absent(conn, _L, {**row, "person_id": resolution.person_id}, unique=_KEY):
                return "linked"
            continue
        row = _link_row(key, record.identifiers, kind="single", reason="import", now=now)
        if _new_person(conn, [row], origin="import", now=now) is not None:
            return "provisional"
    raise Conflict("identity.contended", "these members are being changed concurrently; retry")


def _refresh_link(
    conn: Connection, record: tuple[str, str], identifiers: Sequence[Identifier]
) -> bool:
    """Point an existing link's lookup columns at the record's new identifiers; False if unlinked.
    Which person it belongs to stays as it is: moving it is the batch's decision."""
    key = and_(_L.c.source == record[0], _L.c.source_record_id == record[1])
    if conn.execute(select(_L.c.person_id).where(key)).first() is None:
        return False
    values = {
        column: value
        for kind, column in LINK_COLUMNS.items()
        if (value := next((i.value for i in identifiers if i.type == kind), None)) is not None
    }
    if values:
        conn.execute(update(_L).where(key).values(values))
    return True
