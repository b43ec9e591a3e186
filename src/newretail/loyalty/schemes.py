"""Membership schemes in OLTP: create and replace one (``loyalty.manage``, audited), read them, and find
the free scheme a channel enrols its shoppers in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.loyalty.rules import SchemeDraft, SchemeRules, parse_rules
from newretail.oltp.read_cache import invalidate
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import loyalty_schemes, memberships
from newretail.security.audit import Action, record
from newretail.security.principal import Principal
from newretail.security.roles import Permission

_S = loyalty_schemes


@dataclass(frozen=True, slots=True)
class Scheme:
    """A stored scheme; ``currency`` is the currency of its money rules (thresholds, wallet, price)."""

    id: str
    name: str
    name_en: str
    kind: Literal["free", "paid"]
    currency: str
    rules: SchemeRules
    active: bool


def create_scheme(
    conn: Connection, draft: SchemeDraft, *, actor: Principal, now: dt.datetime
) -> Scheme:
    """Store a new scheme (``loyalty.manage``); Conflict ``loyalty.scheme_exists`` if the id is taken,
    ``loyalty.channel_taken`` if an active free scheme in its currency already covers one of its
    channels (a channel enrols its shoppers in one scheme per currency)."""
    actor.require(Permission.LOYALTY_MANAGE)
    _check_channels_free(conn, draft)
    if not insert_scheme(conn, draft, now=now):
        raise Conflict("loyalty.scheme_exists", f"scheme {draft.id} exists", field="id")
    _audit(conn, actor, Action.SCHEME_CREATED, draft, now)
    return get_scheme(conn, draft.id)


def update_scheme(
    conn: Connection, scheme_id: str, draft: SchemeDraft, *, actor: Principal, now: dt.datetime
) -> Scheme:
    """Replace a scheme's names, rules and active flag (``loyalty.manage``).

    Its kind and currency are fixed once created (balances and prices are held in that currency), and
    a tier that members hold cannot be dropped from the ladder.
    """
    actor.require(Permission.LOYALTY_MANAGE)
    if draft.id != scheme_id:
        raise InvalidInput("loyalty.bad_scheme", "the draft is for another scheme", field="id")
    before = _locked(conn, scheme_id)
    if draft.kind != before.kind:
        raise Conflict("loyalty.kind_fixed", "a scheme's kind cannot change", field="kind")
    if draft.currency != before.currency:
        raise Conflict(
            "loyalty.currency_fixed", "a scheme's currency cannot change", field="currency"
        )
    held = _tiers_held(conn, scheme_id) - set(draft.rules.tier_ids())
    if held:
        raise Conflict(
            "loyalty.tier_in_use",
            f"members hold tiers {sorted(held)}; keep them in the ladder",
            field="rules.tiers",
        )
    _check_channels_free(conn, draft)
    invalidate(conn, _S.name)
    conn.execute(
        update(_S)
        .where(_S.c.id == scheme_id)
        .values(
            name=draft.name,
            name_en=draft.name_en,
            rules=draft.rules.model_dump(mode="json"),
            active=draft.active,
            updated_at=now,
        )
    )
    _audit(conn, actor, Action.SCHEME_UPDATED, draft, now)
    return get_scheme(conn, scheme_id)


def insert_scheme(conn: Connection, draft: SchemeDraft, *, now: dt.datetime) -> bool:
    """Insert the scheme unless its id exists (no permission check, no audit); True if inserted."""
    values = {
        "id": draft.id,
        "name": draft.name,
        "name_en": draft.name_en,
        "kind": draft.kind,
        "currency": draft.currency,
        "rules": draft.rules.model_dump(mode="json"),
        "active": draft.active,
        "created_at": now,
        "updated_at": now,
    }
    invalidate(conn, _S.name)
    return insert_if_absent(conn, _S, values, unique=["id"])


def get_scheme(conn: Connection, scheme_id: str) -> Scheme:
    """The scheme, or NotFound ``loyalty.scheme_unknown``."""
    row = conn.execute(select(_S).where(_S.c.id == scheme_id)).mappings().first()
    if row is None:
        raise NotFound("loyalty.scheme_unknown", f"no scheme {scheme_id}", field="scheme_id")
    return _scheme(row)


def list_schemes(conn: Connection) -> list[Scheme]:
    """Every scheme, free ones first, then by id."""
    rows = conn.execute(select(_S).order_by(_S.c.kind, _S.c.id)).mappings()
    return [_scheme(row) for row in rows]


def scheme_for_channel(
    conn: Connection, channel: str, *, currency: str | None = None
) -> Scheme | None:
    """The active free scheme covering ``channel`` (in ``currency`` when given), or None.

    A chain running schemes in several currencies (a scheme per country) passes the store's
    currency; without it, the scheme created first wins.
    """
    return channel_scheme(active_free_schemes(conn, currency), channel)


def active_free_schemes(conn: Connection, currency: str | None) -> list[Scheme]:
    """The active free schemes (in ``currency`` when given), the one created first first."""
    query = select(_S).where(_S.c.kind == "free", _S.c.active.is_(True))
    if currency is not None:
        query = query.where(_S.c.currency == currency)
    rows = conn.execute(query.order_by(_S.c.created_at, _S.c.id)).mappings()
    return [_scheme(row) for row in rows]


def channel_scheme(schemes: Iterable[Scheme], channel: str) -> Scheme | None:
    """The first of ``schemes`` (from :func:`active_free_schemes`) covering ``channel``."""
    return next((scheme for scheme in schemes if channel in scheme.rules.channels), None)


def _scheme(row: Any) -> Scheme:
    return Scheme(
        id=row["id"],
        name=row["name"],
        name_en=row["name_en"],
        kind=row["kind"],
        currency=row["currency"],
        rules=parse_rules(row["rules"]),
        active=bool(row["active"]),
    )


def _locked(conn: Connection, scheme_id: str) -> Scheme:
    row = conn.execute(select(_S).where(_S.c.id == scheme_id).with_for_update()).mappings().first()
    if row is None:
        raise NotFound("loyalty.scheme_unknown", f"no scheme {scheme_id}", field="scheme_id")
    return _scheme(row)


def _tiers_held(conn: Connection, scheme_id: str) -> set[str]:
    m = memberships
    query = select(m.c.tier).where(m.c.scheme_id == scheme_id).group_by(m.c.tier)
    return set(conn.execute(query).scalars())


def _check_channels_free(conn: Connection, draft: SchemeDraft) -> None:
    if draft.kind != "free" or not draft.active:
        return
    query = select(_S).where(
        _S.c.kind == "free",
        _S.c.active.is_(True),
        _S.c.currency == draft.currency,
        _S.c.id != draft.id,
    )
    for row in conn.execute(query).mappings():
        shared = sorted(set(parse_rules(row["rules"]).channels) & set(draft.rules.channels))
        if shared:
            raise Conflict(
                "loyalty.channel_taken",
                f"scheme {row['id']} already covers {', '.join(shared)} in {draft.currency}",
                field="rules.channels",
            )


def _audit(
    conn: Connection, actor: Principal, action: Action, draft: SchemeDraft, now: dt.datetime
) -> None:
    record(
        conn,
        actor=actor,
        action=action,
        at=now,
        target_type="loyalty_scheme",
        target_id=draft.id,
        detail={
            "kind": draft.kind,
            "currency": draft.currency,
            "active": draft.active,
            "channels": list(draft.rules.channels),
            "tiers": draft.rules.tier_ids(),
        },
    )
