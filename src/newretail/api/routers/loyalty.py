"""Membership: schemes (``loyalty.read`` / ``loyalty.manage``), enrolment (``loyalty.transact``), and
a membership with its balances, paid period and ledger history (``loyalty.read``). What moves a
balance is in :mod:`loyalty_moves`. Every change takes an Idempotency-Key.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy import Connection

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.loyalty_models import (
    BalancesPublic,
    EnrolCreate,
    EntryPublic,
    HistoryPublic,
    MembershipPublic,
    MembershipsPublic,
    PaidPeriodPublic,
    SchemeCreate,
    SchemePublic,
    SchemesPublic,
    SchemeUpdate,
)
from newretail.api.pagination import MAX_LIMIT, Page
from newretail.api.trade_models import MemberCreate
from newretail.loyalty import ledger, wallet
from newretail.loyalty.ledger import AccountKind
from newretail.loyalty.memberships import (
    Membership,
    enrol,
    get_membership,
    memberships_of,
    resolve_person,
)
from newretail.loyalty.periods import periods_of
from newretail.loyalty.schemes import create_scheme, get_scheme, list_schemes, update_scheme
from newretail.security import Permission

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty"])

SchemeId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
MembershipId = Annotated[int, Path(ge=1)]
PersonId = Annotated[str, Path(min_length=1, max_length=24)]
# What a history query may ask for: "wallet" is both sub-accounts, principal and bonus.
_ACCOUNTS: dict[str, tuple[AccountKind, ...]] = {
    "points": ("points",),
    "wallet": ("wallet", "wallet_bonus"),
}


@router.get("/schemes")
def read_schemes(conn: DbConn, principal: CurrentPrincipal, page: Page) -> SchemesPublic:
    """Every scheme, free ones first."""
    principal.require(Permission.LOYALTY_READ)
    found = list_schemes(conn)
    return SchemesPublic(
        data=[SchemePublic.model_validate(s) for s in page.page(found)], count=len(found)
    )


@router.post("/schemes", status_code=status.HTTP_201_CREATED, response_model=SchemePublic)
def create_loyalty_scheme(
    payload: SchemeCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Create a scheme: its channels, tier ladder, earn rules, wallet bonuses and, for a paid
    scheme, price and monthly vouchers. Audited."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> SchemePublic:
        scheme = create_scheme(conn, payload.draft(), actor=principal, now=now)
        return SchemePublic.model_validate(scheme)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/schemes/{scheme_id}")
def read_scheme(scheme_id: SchemeId, conn: DbConn, principal: CurrentPrincipal) -> SchemePublic:
    principal.require(Permission.LOYALTY_READ)
    return SchemePublic.model_validate(get_scheme(conn, scheme_id))


@router.put("/schemes/{scheme_id}", response_model=SchemePublic)
def update_loyalty_scheme(
    scheme_id: SchemeId,
    payload: SchemeUpdate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Replace a scheme's names, rules and active flag; a tier members hold must stay. Audited."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> SchemePublic:
        scheme = update_scheme(
            conn, scheme_id, payload.draft_for(scheme_id), actor=principal, now=now
        )
        return SchemePublic.model_validate(scheme)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.post("/memberships", status_code=status.HTTP_201_CREATED, response_model=MembershipPublic)
def enrol_member(
    payload: EnrolCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Enrol a shopper (a OneID person, or the record the channel knows them by) in a free scheme;
    enrolling again answers with the membership there is."""
    principal.require(Permission.LOYALTY_TRANSACT)

    def work() -> MembershipPublic:
        person_id = person_of(conn, payload.member)
        joined = enrol(
            conn,
            payload.scheme_id,
            person_id,
            channel=payload.channel,
            actor=principal.actor,
            now=now,
        )
        return membership_public(conn, joined, now=now)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.get("/memberships/{membership_id}")
def read_membership(
    membership_id: MembershipId, conn: DbConn, principal: CurrentPrincipal, now: Now
) -> MembershipPublic:
    """A membership with its tier, points, wallet principal and bonus, and paid period if any."""
    principal.require(Permission.LOYALTY_READ)
    return membership_public(conn, get_membership(conn, membership_id), now=now)


@router.get("/persons/{person_id}/memberships")
def read_person_memberships(
    person_id: PersonId, conn: DbConn, principal: CurrentPrincipal, now: Now
) -> MembershipsPublic:
    """Every membership of a person (a merged-away id answers for the person it went into)."""
    principal.require(Permission.LOYALTY_READ)
    live = resolve_person(conn, person_id=person_id)
    found = [membership_public(conn, m, now=now) for m in memberships_of(conn, live)]
    return MembershipsPublic(data=found, count=len(found))


@router.get("/memberships/{membership_id}/history")
def read_history(
    membership_id: MembershipId,
    conn: DbConn,
    principal: CurrentPrincipal,
    kinds: Annotated[
        str,
        Query(
            pattern=r"^(points|wallet)(,(points|wallet))*$",
            description="Comma-separated: points, wallet (principal and bonus).",
        ),
    ] = "points,wallet",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    before_id: Annotated[int | None, Query(ge=1, description="Entries older than this.")] = None,
) -> HistoryPublic:
    """The membership's ledger entries, newest first, a page at a time."""
    principal.require(Permission.LOYALTY_READ)
    get_membership(conn, membership_id)
    accounts = [account for kind in kinds.split(",") for account in _ACCOUNTS[kind]]
    entries = ledger.history(
        conn, membership_id, list(dict.fromkeys(accounts)), limit=limit, before_id=before_id
    )
    return HistoryPublic(
        membership_id=membership_id,
        data=[EntryPublic.model_validate(entry) for entry in entries],
        count=len(entries),
        next_before_id=entries[-1].id if len(entries) == limit else None,
    )


def membership_public(
    conn: Connection, membership: Membership, *, now: dt.datetime
) -> MembershipPublic:
    """A membership with its balances and the paid period that covers today (else the next one)."""
    today = now.astimezone(dt.UTC).date()
    running = [
        p for p in periods_of(conn, membership.id) if p.status == "active" and p.ends_on >= today
    ]
    return MembershipPublic(
        id=membership.id,
        scheme_id=membership.scheme_id,
        person_id=membership.person_id,
        tier=membership.tier,
        tier_since=membership.tier_since,
        status=membership.status,
        joined_at=membership.joined_at,
        joined_channel=membership.joined_channel,
        balances=balances(conn, membership.id),
        paid=PaidPeriodPublic.model_validate(running[0]) if running else None,
    )


def balances(conn: Connection, membership_id: int) -> BalancesPublic:
    held = wallet.balances(conn, membership_id)
    return BalancesPublic(
        points=ledger.balance(conn, membership_id, "points"),
        wallet_principal_minor=held.principal_minor,
        wallet_bonus_minor=held.bonus_minor,
        wallet_currency=held.currency,
    )


def person_of(conn: Connection, member: MemberCreate) -> str:
    return resolve_person(
        conn,
        person_id=member.person_id,
        source=member.source,
        source_record_id=member.source_record_id,
    )
