"""OneID in real time: resolve identifiers to a person, and import member records from ERP, POS and
WeChat. Both may create persons, so both need an Idempotency-Key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, Field, JsonValue
from sqlalchemy import Connection

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import REPLAYED_HEADER, IdempotencyKey, IdempotentRequest
from newretail.api.models import Create, Public
from newretail.errors import InvalidInput
from newretail.identity.realtime import IMPORT_SOURCES, MAX_MEMBERS, import_members, resolve
from newretail.oltp import idempotency
from newretail.security import Permission, Principal
from newretail.security.pii import PiiProtector

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])

_JSON = "application/json"
Source = Annotated[
    str, Path(min_length=1, max_length=32, description=f"One of {', '.join(IMPORT_SOURCES)}.")
]


class ResolveRequest(Create):
    identifiers: list[dict[str, JsonValue]] = Field(
        description=(
            "`{type, value}` each; type is phone, email, unionid, openid (with `app`: wechat or"
            " mini_program), app_uid, platform_user_id (with `platform`: meituan, eleme or tmall)"
            " or pos_card_no."
        ),
        examples=[[{"type": "phone", "value": "13800138000"}]],
    )
    create: bool = Field(True, description="Create a provisional person when none matches.")


class ResolutionPublic(Public):
    person_id: str
    status: Literal["active", "provisional"]
    created: bool
    matched_by: list[str] = Field(description="The identifier types that point at this person.")
    conflicts: list[str] = Field(description="Other persons the identifiers point at.")


class MembersImport(Create):
    members: list[dict[str, JsonValue]] = Field(
        max_length=MAX_MEMBERS,
        description=(
            "Canonical identity records: source_record_id (required), phone and email in clear"
            " (stored only hashed, masked and encrypted), wechat_unionid, wechat_openid, app_uid,"
            " platform_user_id, pos_card_no, name, gender (F, M, U), birthday (YYYY-MM-DD), city,"
            " address, consent_sms/email/wechat/push, created_at and updated_at (ISO 8601)."
        ),
    )


class ImportPublic(Public):
    created: int
    updated: int
    linked: int = Field(description="Records newly linked to an existing person.")
    provisional: int = Field(description="Records that got a new provisional person.")


@router.post(
    "/resolve",
    response_model=ResolutionPublic,
    responses={status.HTTP_201_CREATED: {"model": ResolutionPublic, "description": "Created."}},
)
def resolve_person(
    payload: ResolveRequest,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency_key: IdempotencyKey,
) -> Response:
    """The person the identifiers belong to: 200, or 201 when a provisional person was created
    (``identity.resolve``; ``identity.read`` is enough with ``create: false``)."""
    principal.require(Permission.IDENTITY_RESOLVE if payload.create else Permission.IDENTITY_READ)

    def work() -> tuple[int, BaseModel]:
        found = resolve(
            conn,
            payload.identifiers,
            protector=runtime.protector,
            now=now,
            create=payload.create,
        )
        code = status.HTTP_201_CREATED if found.created else status.HTTP_200_OK
        return code, ResolutionPublic.model_validate(found)

    return _respond_once(
        conn,
        request=idempotency_key,
        principal=principal,
        protector=runtime.protector,
        now=now,
        work=work,
    )


@router.post("/members/{source}", response_model=ImportPublic)
def import_source_members(
    source: Source,
    payload: MembersImport,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency_key: IdempotencyKey,
) -> Response:
    """Create or replace up to 1,000 member records of ``source`` and link them
    (``identity.resolve``); one bad member refuses the whole batch."""
    principal.require(Permission.IDENTITY_RESOLVE)

    def work() -> tuple[int, BaseModel]:
        result = import_members(conn, source, payload.members, protector=runtime.protector, now=now)
        return status.HTTP_200_OK, ImportPublic.model_validate(result)

    return _respond_once(
        conn,
        request=idempotency_key,
        principal=principal,
        protector=runtime.protector,
        now=now,
        work=work,
    )


def _respond_once(
    conn: Connection,
    *,
    request: IdempotentRequest,
    principal: Principal,
    protector: PiiProtector,
    now: dt.datetime,
    work: Callable[[], tuple[int, BaseModel]],
) -> Response:
    """``respond_once`` with the key required and the status chosen by the work (resolve answers
    201 only when it created a person)."""
    if request.key is None:
        raise InvalidInput(
            "idempotency.key_required",
            "send an Idempotency-Key header: this call may create persons",
            field="Idempotency-Key",
        )
    outcome = idempotency.begin(
        conn, key=request.key, principal=principal, fingerprint=request.fingerprint, now=now
    )
    if isinstance(outcome, idempotency.Replay):
        replayed = protector.decrypt(outcome.body)
        headers = {REPLAYED_HEADER: "true"}
        return Response(replayed, outcome.status_code, headers=headers, media_type=_JSON)
    code, model = work()
    body = model.model_dump_json()
    idempotency.complete(
        conn, claim=outcome, status_code=code, body=protector.encrypt(body), now=now
    )
    return Response(body, code, media_type=_JSON)
