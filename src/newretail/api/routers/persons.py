"""OneID's persons: search, the member 360 and merge history (``identity.read``, store-scoped), and
merge, un-merge, re-merge and the review queue (``identity.merge``, audited, Idempotency-Key required).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status
from sqlalchemy import Connection

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, IdempotentRequest, respond_once
from newretail.api.pagination import MAX_LIMIT
from newretail.api.person_models import (
    HistoryPublic,
    MergeEventPublic,
    MergeRequest,
    PersonHitPublic,
    PersonPublic,
    PersonsPublic,
    RecordPublic,
    ReviewItemPublic,
    ReviewSidePublic,
    ReviewsPublic,
    UnmergeRequest,
)
from newretail.api.runtime import Runtime
from newretail.identity.actions import ReviewPair, decide, merge, remerge, reviews, unmerge
from newretail.identity.rules import IdentityRules, load_rules
from newretail.identity.search import MAX_HITS, merge_history, search, view
from newretail.security import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["persons"])

PersonId = Annotated[str, Path(min_length=1, max_length=64, description="A person id.")]
EventId = Annotated[int, Path(ge=1, description="An un-merge event's id.")]
ReviewId = Annotated[int, Path(ge=1)]


def get_rules(runtime: RuntimeDep) -> IdentityRules:
    """The identity rules: the defaults, overridden by ``identity.json`` in the home."""
    return load_rules(runtime.settings.home / "identity.json")


Rules = Annotated[IdentityRules, Depends(get_rules)]


@router.get("/persons")
def search_persons(
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    rules: Rules,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=320,
            description="A person id, a record id (`source:id` or the id), a phone or an e-mail.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_HITS)] = MAX_HITS,
) -> PersonsPublic:
    """Persons matching ``q`` (``identity.read``); a store manager finds only persons with orders
    in their stores."""
    hits = search(
        conn,
        runtime.lake,
        q,
        principal=principal,
        protector=runtime.protector,
        rules=rules,
        limit=limit,
    )
    return PersonsPublic(data=[PersonHitPublic.model_validate(h) for h in hits], count=len(hits))


@router.get("/persons/{person_id}")
def read_person(
    person_id: PersonId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    rules: Rules,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Orders and timeline items.")] = 50,
) -> PersonPublic:
    """The member 360; a merged-away id answers with the person it went into (``requested_id``
    names the id asked for)."""
    found = view(conn, runtime.lake, person_id, principal=principal, rules=rules, limit=limit)
    return PersonPublic.model_validate(found)


@router.get("/persons/{person_id}/history")
def read_history(
    person_id: PersonId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    rules: Rules,
) -> HistoryPublic:
    """Every merge, split, un-merge and re-merge of the person, newest first."""
    live, events = merge_history(conn, runtime.lake, person_id, principal=principal, rules=rules)
    return HistoryPublic(
        person_id=live,
        requested_id=person_id,
        data=[MergeEventPublic.model_validate(e) for e in events],
        count=len(events),
    )


@router.post("/persons/{keep}/merge", response_model=MergeEventPublic)
def merge_person(
    keep: PersonId,
    payload: MergeRequest,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Move every record of ``absorb`` to ``keep`` and retire ``absorb`` (``identity.merge``); the
    nightly run keeps them together."""
    principal.require(Permission.IDENTITY_MERGE)
    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_200_OK,
        required=True,
        work=lambda: MergeEventPublic.model_validate(
            merge(
                conn,
                principal=principal,
                keep=keep,
                absorb=payload.absorb,
                reason=payload.reason,
                now=now,
            )
        ),
    )


@router.post("/persons/{person_id}/unmerge", response_model=MergeEventPublic)
def unmerge_person(
    person_id: PersonId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
    payload: Annotated[UnmergeRequest | None, Body()] = None,
) -> Response:
    """Undo the latest merge into the person, or the merge ``event_id`` (``identity.merge``): the
    absorbed person comes back with exactly the records and links it had."""
    principal.require(Permission.IDENTITY_MERGE)
    event_id = payload.event_id if payload else None
    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_200_OK,
        required=True,
        work=lambda: MergeEventPublic.model_validate(
            unmerge(conn, person_id, principal=principal, now=now, event_id=event_id)
        ),
    )


@router.post("/identity/events/{event_id}/remerge", response_model=MergeEventPublic)
def remerge_event(
    event_id: EventId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Undo an un-merge: its records go back together (``identity.merge``)."""
    principal.require(Permission.IDENTITY_MERGE)
    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_200_OK,
        required=True,
        work=lambda: MergeEventPublic.model_validate(
            remerge(conn, event_id, principal=principal, now=now)
        ),
    )


@router.get("/identity/review")
def read_reviews(
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    review_status: Annotated[
        Literal["open", "approved", "rejected"], Query(alias="status")
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> ReviewsPublic:
    """Record pairs in the grey zone of match probability, most probable first
    (``identity.merge``)."""
    pairs = reviews(conn, runtime.lake, principal=principal, status=review_status, limit=limit)
    return ReviewsPublic(data=[_review(p) for p in pairs], count=len(pairs))


@router.post("/identity/review/{review_id}/approve", response_model=ReviewItemPublic)
def approve_review(
    review_id: ReviewId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """The two records are the same person: their persons merge (``identity.merge``)."""
    return _decide(
        conn,
        review_id,
        approve=True,
        principal=principal,
        runtime=runtime,
        now=now,
        key=idempotency,
    )


@router.post("/identity/review/{review_id}/reject", response_model=ReviewItemPublic)
def reject_review(
    review_id: ReviewId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """The two records are different people: every later run keeps them apart
    (``identity.merge``)."""
    return _decide(
        conn,
        review_id,
        approve=False,
        principal=principal,
        runtime=runtime,
        now=now,
        key=idempotency,
    )


def _decide(
    conn: Connection,
    review_id: int,
    *,
    approve: bool,
    principal: Principal,
    runtime: Runtime,
    now: dt.datetime,
    key: IdempotentRequest,
) -> Response:
    principal.require(Permission.IDENTITY_MERGE)
    return respond_once(
        conn,
        request=key,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_200_OK,
        required=True,
        work=lambda: _review(
            decide(conn, runtime.lake, review_id, principal=principal, approve=approve, now=now)
        ),
    )


def _review(pair: ReviewPair) -> ReviewItemPublic:
    item = pair.item
    sides = []
    for (source, record_id), person, record in (
        (item.left, item.left_person, pair.left_record),
        (item.right, item.right_person, pair.right_record),
    ):
        sides.append(
            ReviewSidePublic(
                source=source,
                source_record_id=record_id,
                person_id=person,
                record=None if record is None else RecordPublic.model_validate(record),
            )
        )
    return ReviewItemPublic(
        id=item.id,
        left=sides[0],
        right=sides[1],
        match_probability=item.match_probability,
        match_weight=item.match_weight,
        status=item.status,
    )
