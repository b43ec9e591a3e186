"""The ``Idempotency-Key`` header on mutating calls: claim the key, do the work and store the response
in the handler's one transaction, so a retry replays the response and never acts twice.

Stored responses are encrypted with the platform key: some (a new user's password, a new API key) hold
a secret that is shown once and must not sit in the database in clear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from newretail.errors import InvalidInput
from newretail.oltp import idempotency
from newretail.security import Principal
from newretail.security.pii import PiiProtector

REPLAYED_HEADER = "Idempotent-Replayed"
_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """The request's key (None when the client sent none) and what makes it the same request."""

    key: str | None
    fingerprint: str


async def get_idempotent_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry-safe: the same key and request replays the first response.",
        ),
    ] = None,
) -> IdempotentRequest:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    body = await request.body()
    fingerprint = idempotency.request_fingerprint(method=request.method, path=path, body=body)
    return IdempotentRequest(key=idempotency_key, fingerprint=fingerprint)


IdempotencyKey = Annotated[IdempotentRequest, Depends(get_idempotent_request)]


def respond_once(
    conn: Connection,
    *,
    request: IdempotentRequest,
    principal: Principal,
    protector: PiiProtector,
    now: dt.datetime,
    status_code: int,
    work: Callable[[], BaseModel | None],
    required: bool = False,
) -> Response:
    """Run ``work`` in ``conn``'s transaction and answer with its model, or replay a stored answer.

    Raises ``Conflict`` ``idempotency.key_reused`` when the key came with a different request, and
    ``InvalidInput`` ``idempotency.key_required`` when ``required`` and the request has no key.
    """
    if request.key is None and required:
        raise InvalidInput(
            "idempotency.key_required",
            "send an Idempotency-Key header: a retry of this call must not act twice",
            field="Idempotency-Key",
        )
    if request.key is None:
        return _response(status_code, _encode(work()))
    outcome = idempotency.begin(
        conn, key=request.key, principal=principal, fingerprint=request.fingerprint, now=now
    )
    if isinstance(outcome, idempotency.Replay):
        body = protector.decrypt(outcome.body).encode()
        return _response(outcome.status_code, body, replayed=True)
    body = _encode(work())
    stored = protector.encrypt(body.decode())
    idempotency.complete(conn, claim=outcome, status_code=status_code, body=stored, now=now)
    return _response(status_code, body)


def _encode(model: BaseModel | None) -> bytes:
    return b"" if model is None else model.model_dump_json().encode()


def _response(status_code: int, body: bytes, *, replayed: bool = False) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    media_type = _JSON if body else None
    return Response(body, status_code=status_code, media_type=media_type, headers=headers)


def respond_once_keyed(
    conn: Connection,
    request: IdempotentRequest,
    principal: Principal,
    protector: PiiProtector,
    now: dt.datetime,
    work: Callable[[], BaseModel | None],
    status_code: int,
) -> Response:
    """:func:`respond_once` for the administrative calls, which all require an Idempotency-Key."""
    return respond_once(
        conn,
        request=request,
        principal=principal,
        protector=protector,
        now=now,
        status_code=status_code,
        work=work,
        required=True,
    )
