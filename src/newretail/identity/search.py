"""Finding persons for a user: search by id, record id, phone or e-mail, the member 360 and the merge
history, each within the caller's store scope (a store manager sees only their stores' customers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, select

from newretail.errors import InvalidInput, NotFound
from newretail.identity import manual
from newretail.identity.golden import golden_profiles
from newretail.identity.profile import Member360, member_360
from newretail.identity.records import RECORD_SCHEMA, records_of
from newretail.identity.rules import IdentityRules
from newretail.lake import Lake
from newretail.oltp.tables import identity_links, identity_persons
from newretail.security import Permission, Principal
from newretail.security.pii import PiiProtector, normalize_email, normalize_phone

MAX_HITS = 20
# How a search found a person, in the order hits are listed.
MATCHES = ("person_id", "record", "phone", "email")


@dataclass(frozen=True, slots=True)
class PersonHit:
    person_id: str
    status: str
    matched_by: str
    sources: list[str]
    name: str | None
    phone_masked: str | None


def search(
    conn: Connection,
    lake: Lake,
    query: str,
    *,
    principal: Principal,
    protector: PiiProtector,
    rules: IdentityRules,
    limit: int = MAX_HITS,
) -> list[PersonHit]:
    """Persons whose id, record id (``source:id`` or the bare id), phone or e-mail is ``query``.

    A store manager finds only persons with orders in their stores, as the 360 would show them.
    """
    principal.require(Permission.IDENTITY_READ)
    text = query.strip()
    if not text:
        raise InvalidInput(
            "persons.empty_query", "type a person id, record id, phone or e-mail", field="q"
        )
    found: dict[str, str] = {}
    for matched_by in MATCHES:
        for person in _candidates(conn, matched_by, text, protector, limit):
            found.setdefault(person, matched_by)
    scope = principal.store_scope
    hits: dict[str, str] = {}
    for person, matched_by in found.items():
        if len(hits) == limit:
            break
        # Scoped hits cost a 360 each (in the lake), so they are checked only until the page is full.
        if scope is None or _in_scope(conn, lake, person, scope, rules):
            hits[person] = matched_by
    return _summaries(conn, lake, hits, rules)


def view(
    conn: Connection,
    lake: Lake,
    person_id: str,
    *,
    principal: Principal,
    rules: IdentityRules,
    limit: int = 50,
) -> Member360:
    """The member 360 of ``person_id`` (a retired id shows the person it was merged into)."""
    principal.require(Permission.IDENTITY_READ)
    return member_360(
        conn, lake, person_id, rules=rules, store_scope=principal.store_scope, limit=limit
    )


def merge_history(
    conn: Connection, lake: Lake, person_id: str, *, principal: Principal, rules: IdentityRules
) -> tuple[str, list[dict[str, Any]]]:
    """The live person ``person_id`` stands for and its merge history, newest first."""
    principal.require(Permission.IDENTITY_READ)
    live = manual.live_person(conn, person_id)
    scope = principal.store_scope
    if scope is not None and not _in_scope(conn, lake, live, scope, rules):
        raise NotFound("identity.person_not_found", f"no person {person_id} in your stores")
    return live, manual.history(conn, live)


def _candidates(
    conn: Connection, matched_by: str, text: str, protector: PiiProtector, limit: int
) -> list[str]:
    links = identity_links.c
    if matched_by == "person_id":
        known = conn.execute(
            select(identity_persons.c.person_id).where(identity_persons.c.person_id == text)
        ).scalar()
        return [] if known is None else [manual.live_person(conn, text)]
    if matched_by == "record":
        source, _, record_id = text.partition(":")
        where = (
            (links.source == source) & (links.source_record_id == record_id)
            if record_id
            else links.source_record_id == text
        )
    elif matched_by == "phone":
        phone = normalize_phone(text)
        if phone is None:
            return []
        where = links.phone_hash == protector.hash(phone)
    else:
        email = normalize_email(text)
        if email is None:
            return []
        where = links.email_hash == protector.hash(email)
    rows = conn.execute(
        select(links.person_id).where(where).distinct().order_by(links.person_id).limit(limit)
    )
    return [str(person) for person in rows.scalars()]


def _in_scope(
    conn: Connection, lake: Lake, person_id: str, scope: frozenset[str], rules: IdentityRules
) -> bool:
    """Whether the 360 would show ``person_id`` to someone who sees only ``scope``'s stores."""
    try:
        member_360(conn, lake, person_id, rules=rules, store_scope=scope, limit=1)
    except NotFound:
        return False
    return True


def _summaries(
    conn: Connection, lake: Lake, found: dict[str, str], rules: IdentityRules
) -> list[PersonHit]:
    if not found:
        return []
    links = conn.execute(
        select(
            identity_links.c.person_id, identity_links.c.source, identity_links.c.source_record_id
        )
        .where(identity_links.c.person_id.in_(found))
        .order_by(identity_links.c.source)
    ).all()
    keys = [(r.source, r.source_record_id) for r in links]
    records = records_of(conn, lake, keys, tuple(RECORD_SCHEMA.names))
    person_of = {(r.source, r.source_record_id): r.person_id for r in links}
    found_keys = zip(
        records["source"].to_pylist(), records["source_record_id"].to_pylist(), strict=True
    )
    owners = [person_of[key] for key in found_keys]
    golden = {
        g["person_id"]: g
        for g in golden_profiles(
            records.append_column("person_id", pa.array(owners, pa.string())), rules
        ).to_pylist()
    }
    rows = conn.execute(
        select(identity_persons.c.person_id, identity_persons.c.status).where(
            identity_persons.c.person_id.in_(found)
        )
    )
    statuses = {person: str(state) for person, state in rows}
    hits = []
    for person, matched_by in found.items():
        profile = golden.get(person, {})
        hits.append(
            PersonHit(
                person_id=person,
                status=statuses[person],
                matched_by=matched_by,
                sources=sorted({r.source for r in links if r.person_id == person}),
                name=profile.get("name"),
                phone_masked=profile.get("phone_masked"),
            )
        )
    return sorted(hits, key=lambda h: (MATCHES.index(h.matched_by), h.person_id))
