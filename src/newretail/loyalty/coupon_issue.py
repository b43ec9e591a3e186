"""Issuing coupons of a template to persons, a list or an audience snapshot, within the template's
budget and per-person limit, each (template, person, issue key) at most once."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from pyroaring import BitMap
from sqlalchemy import BindParameter, Connection, String, bindparam, insert, literal, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty.coupon_templates import CouponTemplate, template_from_row
from newretail.oltp.columns import UtcDateTime
from newretail.oltp.tables import audience_snapshots, coupon_events, coupon_templates, coupons
from newretail.security import Action, Permission, Principal
from newretail.security.audit import record

# Re-issued coupons are a service correction, not a benefit the member chose to collect: they do not
# count against the per-person limit (they do count against the budget, which is money).
REISSUE_PREFIX = "reissue:"
# Persons or coupons per statement.
_CHUNK = 5_000
# Base32 without the look-alikes 0/O and 1/I: 16 characters carry 80 random bits.
_CODE_ALPHABET = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)


@dataclass(frozen=True, slots=True)
class IssueResult:
    """What one issue did. ``coupon_ids`` holds the coupon of every person who has one under the
    issue key, new or issued before, in the order the persons were given."""

    issued: int
    already: int
    over_budget: int
    over_person_limit: int
    coupon_ids: list[str] = field(default_factory=list)


def new_codes(count: int) -> list[str]:
    """``count`` unguessable coupon codes such as ``K7WQ3M9XHD2PJ4RT``: 80 random bits each.

    Ten random bytes are exactly sixteen base32 characters, so one encoding serves them all.
    """
    text = base64.b32encode(secrets.token_bytes(10 * count)).decode().translate(_CODE_ALPHABET)
    return [text[start : start + 16] for start in range(0, len(text), 16)]


def record_events(
    conn: Connection, coupon_ids: Sequence[str], *, kind: str, actor: str, now: dt.datetime
) -> None:
    """Append one ``kind`` event (natural key ``kind``) to each coupon.

    INSERT ... SELECT in chunks: the constant columns are bound once per statement rather than once
    per row, which is most of the cost of an executemany of 100k events.
    """
    for chunk in _chunks(list(coupon_ids)):
        conn.execute(
            insert(coupon_events).from_select(
                ["coupon_id", "kind", "natural_key", "actor", "at"],
                select(
                    coupons.c.id,
                    literal(kind, String),
                    literal(kind, String),
                    literal(actor, String),
                    literal(now, UtcDateTime),
                ).where(coupons.c.id.in_(_inline(chunk))),
            )
        )


def issue(
    conn: Connection,
    template_id: str,
    person_ids: Sequence[str],
    *,
    issue_key: str,
    actor: str,
    now: dt.datetime,
) -> IssueResult:
    """Issue one coupon of the template to each person (duplicates count once), first come first
    served within the budget; a retry with the same ``issue_key`` issues nothing twice.

    The template row is locked for the whole issue, so concurrent issues of one template queue and
    neither the budget nor a person's limit can be overrun. Refused when the template is not active
    (Conflict ``coupon_template.inactive``) or its window has closed (``coupon_template.ended``).
    """
    return _issue(
        conn, template_id, person_ids, issue_key=issue_key, actor=actor, now=now, limited=True
    )


def issue_to_list(
    conn: Connection,
    template_id: str,
    person_ids: Sequence[str],
    *,
    issue_key: str,
    actor: Principal,
    now: dt.datetime,
) -> IssueResult:
    """:func:`issue` as a marketer does it (``coupons.issue``), audited."""
    actor.require(Permission.COUPONS_ISSUE)
    result = issue(conn, template_id, person_ids, issue_key=issue_key, actor=actor.actor, now=now)
    _audit(conn, actor, template_id, result, now, issue_key=issue_key)
    return result


def issue_to_audience(
    conn: Connection,
    template_id: str,
    snapshot_id: str,
    person_ids_of: Callable[[bytes], Sequence[str]],
    *,
    actor: Principal,
    now: dt.datetime,
    issue_key: str | None = None,
) -> IssueResult:
    """Issue to every member of a frozen audience snapshot (``coupons.issue``), audited.

    ``person_ids_of`` turns the snapshot's stored members (a serialised roaring bitmap of dense
    person ids) into person ids; :func:`dense_person_ids` builds it from the person index. The
    issue key defaults to ``snapshot:<id>``, so issuing the same snapshot again issues nothing.
    """
    actor.require(Permission.COUPONS_ISSUE)
    members = conn.execute(
        select(audience_snapshots.c.members).where(audience_snapshots.c.id == snapshot_id)
    ).scalar_one_or_none()
    if members is None:
        raise NotFound(
            "audience.unknown_snapshot",
            f"there is no snapshot {snapshot_id!r}",
            field="snapshot_id",
        )
    key = issue_key or f"snapshot:{snapshot_id}"
    result = issue(
        conn, template_id, person_ids_of(members), issue_key=key, actor=actor.actor, now=now
    )
    _audit(conn, actor, template_id, result, now, issue_key=key, snapshot_id=snapshot_id)
    return result


def reissue_one(
    conn: Connection,
    template_id: str,
    person_id: str,
    *,
    old_coupon_id: str,
    actor: str,
    now: dt.datetime,
) -> tuple[str, bool]:
    """A replacement for ``old_coupon_id`` and whether it was issued now: a new coupon of the
    template for the person, valid afresh, outside the per-person limit but within the budget
    (Conflict ``coupon_template.budget_exhausted``). Asking again gives the same coupon."""
    result = _issue(
        conn,
        template_id,
        [person_id],
        issue_key=f"{REISSUE_PREFIX}{old_coupon_id}",
        actor=actor,
        now=now,
        limited=False,
    )
    if result.over_budget:
        raise Conflict(
            "coupon_template.budget_exhausted",
            f"template {template_id!r} has issued its whole budget",
            field="template_id",
        )
    return result.coupon_ids[0], result.issued == 1


def dense_person_ids(keys: Callable[[BitMap], Sequence[str]]) -> Callable[[bytes], list[str]]:
    """The ``person_ids_of`` of :func:`issue_to_audience` from a dense-id lookup, such as the person
    index's ``keys`` (``indexes.persons.keys``); persons since erased are left out by it."""

    def person_ids_of(members: bytes) -> list[str]:
        return list(keys(BitMap.deserialize(members)))

    return person_ids_of


def _issue(
    conn: Connection,
    template_id: str,
    person_ids: Sequence[str],
    *,
    issue_key: str,
    actor: str,
    now: dt.datetime,
    limited: bool,
) -> IssueResult:
    if not issue_key or len(issue_key) > 160:
        raise InvalidInput(
            "coupon.bad_issue_key", "issue_key must be 1 to 160 characters", field="issue_key"
        )
    wanted = list(dict.fromkeys(person_ids))
    if any(not isinstance(p, str) or not p or len(p) > 24 for p in wanted):
        raise InvalidInput(
            "coupon.bad_person", "person ids must be 1 to 24 characters", field="person_ids"
        )
    template = _locked_template(conn, template_id, now)
    held, counts = _holdings(conn, template_id, wanted, issue_key)
    budget_left = (
        None if template.budget_total is None else template.budget_total - template.issued_count
    )
    fresh: list[str] = []
    over_budget = over_limit = 0
    for person in wanted:
        if person in held:
            continue
        if (
            limited
            and template.per_person_limit is not None
            and counts.get(person, 0) >= template.per_person_limit
        ):
            over_limit += 1
        elif budget_left is not None and len(fresh) >= budget_left:
            over_budget += 1
        else:
            fresh.append(person)
    if fresh:
        held.update(_insert(conn, template, fresh, issue_key=issue_key, actor=actor, now=now))
    return IssueResult(
        issued=len(fresh),
        already=len(wanted) - len(fresh) - over_budget - over_limit,
        over_budget=over_budget,
        over_person_limit=over_limit,
        coupon_ids=[held[person] for person in wanted if person in held],
    )


def _locked_template(conn: Connection, template_id: str, now: dt.datetime) -> CouponTemplate:
    row = conn.execute(
        select(coupon_templates).where(coupon_templates.c.id == template_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(
            "coupon_template.unknown",
            f"there is no coupon template {template_id!r}",
            field="template_id",
        )
    template = template_from_row(row)
    if template.status != "active":
        raise Conflict(
            "coupon_template.inactive",
            f"template {template_id!r} is {template.status}",
            field="template_id",
        )
    if template.valid_until is not None and now >= template.valid_until:
        raise Conflict(
            "coupon_template.ended",
            f"template {template_id!r} is no longer valid",
            field="template_id",
        )
    return template


def _holdings(
    conn: Connection, template_id: str, persons: list[str], issue_key: str
) -> tuple[dict[str, str], dict[str, int]]:
    """Each person's coupon under ``issue_key``, and how many coupons of the template count against
    their limit; read after the template lock, so they include every committed issue."""
    held: dict[str, str] = {}
    counts: dict[str, int] = {}
    for chunk in _chunks(persons):
        rows = conn.execute(
            select(coupons.c.person_id, coupons.c.issue_key, coupons.c.id).where(
                coupons.c.template_id == template_id, coupons.c.person_id.in_(_inline(chunk))
            )
        )
        for person, key, coupon_id in rows:
            if key == issue_key:
                held[person] = coupon_id
            if not key.startswith(REISSUE_PREFIX):
                counts[person] = counts.get(person, 0) + 1
    return held, counts


def _insert(
    conn: Connection,
    template: CouponTemplate,
    persons: list[str],
    *,
    issue_key: str,
    actor: str,
    now: dt.datetime,
) -> dict[str, str]:
    valid_from, expires_at = validity(template, now)
    codes = dict(zip(persons, new_codes(len(persons)), strict=True))
    # executemany: SQLAlchemy batches these into multi-row INSERTs (PostgreSQL) or one prepared
    # statement (SQLite).
    conn.execute(
        insert(coupons),
        [
            {
                "id": code,
                "template_id": template.id,
                "person_id": person,
                "status": "issued",
                "issue_key": issue_key,
                "issued_at": now,
                "valid_from": valid_from,
                "expires_at": expires_at,
            }
            for person, code in codes.items()
        ],
    )
    record_events(conn, list(codes.values()), kind="issued", actor=actor, now=now)
    conn.execute(
        update(coupon_templates)
        .where(coupon_templates.c.id == template.id)
        .values(issued_count=coupon_templates.c.issued_count + len(persons))
    )
    return codes


def validity(template: CouponTemplate, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When a coupon issued at ``now`` becomes valid and when it expires.

    It becomes valid at issue, or when the template's window opens if that is later; ``valid_days``
    count from then, and the window's end, if any, caps them.
    """
    valid_from = max(now, template.valid_from) if template.valid_from is not None else now
    ends = (
        [valid_from + dt.timedelta(days=template.valid_days)]
        if template.valid_days is not None
        else []
    )
    if template.valid_until is not None:
        ends.append(template.valid_until)
    return valid_from, min(ends)


def _inline(values: list[str]) -> BindParameter[list[str]]:
    """A list for ``IN`` written into the statement (escaped as SQL string literals) rather than
    bound as thousands of parameters. Bound, PostgreSQL soon plans the repeated statement
    generically and tests each row against the list one by one (26 s for 5,000 persons against
    100k coupons); written in, the list is a constant it hashes (30 ms)."""
    return bindparam("values", values, expanding=True, literal_execute=True)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _audit(
    conn: Connection,
    actor: Principal,
    template_id: str,
    result: IssueResult,
    now: dt.datetime,
    **keys: str,
) -> None:
    record(
        conn,
        actor=actor,
        action=Action.COUPONS_ISSUED,
        at=now,
        target_type="coupon_template",
        target_id=template_id,
        detail={
            **keys,
            "issued": result.issued,
            "already": result.already,
            "over_budget": result.over_budget,
            "over_person_limit": result.over_person_limit,
        },
    )
