"""API keys (admin): list, create a user key or a source's write key (shown once), revoke."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from sqlalchemy import Connection

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once
from newretail.api.models import KeyCreate, KeyCreated, KeyPublic, KeysPublic
from newretail.api.pagination import Page
from newretail.errors import InvalidInput
from newretail.security import (
    NewKey,
    Permission,
    Principal,
    create_user_key,
    create_write_key,
    list_keys,
    revoke_key,
)

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])

Prefix = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[0-9a-f]+$")]


@router.get("")
def read_keys(conn: DbConn, principal: CurrentPrincipal, page: Page) -> KeysPublic:
    """Every key's public facts, newest first; never a secret."""
    keys = list_keys(conn, actor=principal)
    return KeysPublic(data=[KeyPublic.model_validate(k) for k in page.page(keys)], count=len(keys))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create(
    payload: KeyCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """A user key (``kind=user``, ``email``) or a write key (``kind=write``, ``source``)."""
    principal.require(Permission.KEYS_MANAGE)
    _check_owner(payload)

    def work() -> KeyCreated:
        new = _create_key(conn, principal=principal, payload=payload, now=now)
        return KeyCreated.model_validate(new)

    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_201_CREATED,
        work=work,
    )


@router.delete("/{prefix}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def revoke(
    prefix: Prefix,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Revoke the key with this prefix; revoking it again changes nothing."""
    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_204_NO_CONTENT,
        work=lambda: revoke_key(conn, actor=principal, prefix=prefix, now=now),
    )


def _check_owner(payload: KeyCreate) -> None:
    """A user key names its user (``email``), a write key its ``source``, and neither the other."""
    needed, refused = ("email", "source") if payload.kind == "user" else ("source", "email")
    if getattr(payload, needed) is None:
        raise InvalidInput(
            f"keys.{needed}_required", f"a {payload.kind} key needs {needed}", field=needed
        )
    if getattr(payload, refused) is not None:
        raise InvalidInput(
            f"keys.{refused}_not_allowed", f"a {payload.kind} key takes no {refused}", field=refused
        )


def _create_key(
    conn: Connection, *, principal: Principal, payload: KeyCreate, now: dt.datetime
) -> NewKey:
    if payload.email is not None:
        return create_user_key(
            conn, actor=principal, email=payload.email, now=now, expires_at=payload.expires_at
        )
    assert payload.source is not None
    return create_write_key(
        conn, actor=principal, source=payload.source, now=now, expires_at=payload.expires_at
    )
