"""``POST /api/v1/flashsales/{sale}/reservations``: the flash-sale hot path, served as plain ASGI
before FastAPI's middleware and routing (see :class:`newretail.api.app.App`).

At the peak this one route takes thousands of calls a second on two cores. FastAPI's dependency
resolution, request validation and response models cost several times what the reservation itself
costs (a trivial route: ~12k requests/s in FastAPI against ~39k as a raw ASGI app, on one core), so
this route reads its headers once, parses the body with orjson, checks the few fields by hand and
encodes the answer with orjson; every other request goes to FastAPI untouched. Its OpenAPI entry is
added by :func:`document`.

What one call does, with no database round trip:

1. The caller: a user API key (``Authorization: Bearer nru_…``) whose role may
   ``flashsales.reserve`` (a channel's backend acting for the shopper in the body). A key is checked
   against the database once per few seconds (:mod:`~newretail.api.keycache`).
2. ``Idempotency-Key`` is required and is the engine's request key: the engine's one Lua script
   records it with the reservation, so a repeat (a double click, a retry after a timeout) answers
   with the first reservation (200, ``Idempotent-Replayed: true``) and takes no more stock. Nothing
   is written to the OLTP idempotency table: that would be a database write per reservation, 5,000
   a second at the peak, to record what the engine already records atomically with the stock.
3. The gate (:mod:`~newretail.flashsale.gate`): per-person and per-address rate limits (429
   ``flashsale.rate_limited``) and, while the sale is open (its window is cached per process, see
   :mod:`~newretail.api.sale_windows`), the waiting room (202 with a ticket, a position and
   Retry-After). A click outside the window goes on to the engine, which refuses it.
   The address is the first ``X-Forwarded-For`` entry when the channel's backend passes on its
   shopper's address (the caller is authenticated, so it is trusted), else the peer's.
4. The engine's ``areserve``: one pipelined EVALSHA on Redis. 201 with the reservation, or 4xx
   problem+json with the rejection's stable code; nothing is taken then.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from newretail.api.deps import get_now
from newretail.api.flashsale_models import ReservationCreate, ReservationPublic, WaitingPublic
from newretail.api.idempotency import REPLAYED_HEADER
from newretail.api.problems import MEDIA_TYPE, error_body, problem_body
from newretail.api.runtime import Runtime
from newretail.errors import (
    Forbidden,
    InvalidInput,
    NewRetailError,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)
from newretail.flashsale import ADMITTED, Limited, Rejection, Waiting
from newretail.flashsale.engine import MAX_QUANTITY
from newretail.flashsale.records import to_millis
from newretail.flashsale.sale import ITEM_OR_PERSON_ID, SALE_ID
from newretail.security import Permission, Principal

log = logging.getLogger("newretail.api")

PATH = "/api/v1/flashsales/{sale_id}/reservations"
_PATH = re.compile(r"/api/v1/flashsales/([^/]+)/reservations")
_MAX_BODY = 4096
_ADDRESS = re.compile(r"[0-9A-Za-z.:_-]{1,64}")
_FIELDS = frozenset({"sku", "person_id", "quantity", "ticket"})
_JSON = (b"content-type", b"application/json")
_PROBLEM = (b"content-type", MEDIA_TYPE.encode())
_REPLAYED = (REPLAYED_HEADER.lower().encode(), b"true")

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def reservation_sale(scope: Scope) -> str | None:
    """The sale id when ``scope`` is a reservation request, else None (cheap: the method first)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = _PATH.fullmatch(scope["path"])
    return None if match is None else match.group(1)


async def serve(app: FastAPI, scope: Scope, receive: Receive, send: Send, sale_id: str) -> None:
    """Answer one reservation request; every error becomes problem+json, never an exception."""
    status, headers, body = await _answer(app, scope, receive, sale_id)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(app: FastAPI, scope: Scope, receive: Receive, sale_id: str) -> Answer:
    try:
        return await _reserve(app, scope, receive, sale_id)
    except NewRetailError as error:
        headers = [_PROBLEM]
        if error.http_status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        return error.http_status, headers, orjson.dumps(error_body(error))
    except Exception as error:
        log.exception("unhandled error", exc_info=error)
        body = problem_body(500, "internal", "an internal error occurred; it has been logged")
        return 500, [_PROBLEM], orjson.dumps(body)


async def _reserve(app: FastAPI, scope: Scope, receive: Receive, sale_id: str) -> Answer:
    runtime: Runtime = app.state.runtime
    headers = dict(scope["headers"])
    now = await _now(app)
    principal = await _caller(runtime, headers.get(b"authorization"), now)
    if not principal.can(Permission.FLASHSALES_RESERVE):
        raise Forbidden("auth.permission_denied", f"role {principal.role} may not reserve")
    key = headers.get(b"idempotency-key")
    if not key:
        raise InvalidInput(
            "idempotency.key_required",
            "send an Idempotency-Key header: it makes a repeated click take stock once",
            field="Idempotency-Key",
        )
    sku, person_id, quantity, ticket = _fields(sale_id, await _body(receive, headers))
    window = await runtime.sale_windows.window(sale_id)
    if window is None:
        raise NotFound("flashsale.unknown_sale", "there is no such sale")
    now_ms = to_millis(now)
    verdict = await runtime.gate.admit(
        sale_id,
        person_id=person_id,
        address=_address(scope, headers.get(b"x-forwarded-for")),
        ticket=ticket,
        now_ms=now_ms,
        queue=window.open_at(now_ms),
    )
    if verdict is not ADMITTED:
        return _turned_away(verdict, sku=sku, person_id=person_id, quantity=quantity)
    outcome = await runtime.flashsale.areserve(
        sale_id,
        sku=sku,
        person_id=person_id,
        quantity=quantity,
        request_key=key.decode("latin-1"),
        now=now,
    )
    if isinstance(outcome, Rejection):
        raise outcome.error()
    body = orjson.dumps(
        {
            "id": outcome.id,
            "sale_id": outcome.sale_id,
            "sku": outcome.sku,
            "person_id": outcome.person_id,
            "quantity": outcome.quantity,
            "status": outcome.status.value,
            "expires_at": outcome.expires_at,
            "replayed": outcome.replayed,
        },
        option=orjson.OPT_UTC_Z,
    )
    location = (b"location", f"/api/v1/flashsales/{sale_id}/reservations/{outcome.id}".encode())
    if outcome.replayed:
        return 200, [_JSON, location, _REPLAYED], body
    return 201, [_JSON, location], body


async def _now(app: FastAPI) -> dt.datetime:
    """The wall clock, or the one a test pinned for every route with a ``get_now`` override."""
    clock = app.dependency_overrides.get(get_now)
    if clock is None:
        return dt.datetime.now(dt.UTC)
    pinned = clock()
    now: dt.datetime = await pinned if inspect.isawaitable(pinned) else pinned
    return now


async def _caller(runtime: Runtime, authorization: bytes | None, now: dt.datetime) -> Principal:
    scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "auth.missing_credentials", "send a user API key as `Authorization: Bearer <key>`"
        )
    return await runtime.user_keys.acheck(token, now=now)


async def _body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > _MAX_BODY:
        raise TooLarge("request.too_large", f"the body exceeds {_MAX_BODY} bytes")
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > _MAX_BODY:
            raise TooLarge("request.too_large", f"the body exceeds {_MAX_BODY} bytes")
        if not message.get("more_body", False):
            return body


def _fields(sale_id: str, body: bytes) -> tuple[str, str, int, str | None]:
    """The body's sku, person_id, quantity and ticket, each checked as the engine would; the ids
    are checked here too because the gate keys its counters by them."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise NewRetailError("request.malformed_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _bad("body", "send a JSON object")
    sku, person_id = data.get("sku"), data.get("person_id")
    quantity, ticket = data.get("quantity", 1), data.get("ticket")
    if (
        type(sku) is str
        and ITEM_OR_PERSON_ID.fullmatch(sku)
        and type(person_id) is str
        and ITEM_OR_PERSON_ID.fullmatch(person_id)
        and type(quantity) is int
        and 0 < quantity <= MAX_QUANTITY
        and (ticket is None or (type(ticket) is str and len(ticket) <= 64))
        and data.keys() <= _FIELDS
        and SALE_ID.fullmatch(sale_id)
    ):
        return sku, person_id, quantity, ticket
    for field, ok in (
        ("sale_id", SALE_ID.fullmatch(sale_id)),
        ("sku", type(sku) is str and ITEM_OR_PERSON_ID.fullmatch(sku)),
        ("person_id", type(person_id) is str and ITEM_OR_PERSON_ID.fullmatch(person_id)),
        ("quantity", type(quantity) is int and 0 < quantity <= MAX_QUANTITY),
        ("ticket", ticket is None or (type(ticket) is str and len(ticket) <= 64)),
    ):
        if not ok:
            raise _bad(field, f"malformed {field}")
    unknown = sorted(data.keys() - _FIELDS)
    raise _bad(unknown[0], f"unknown field {unknown[0]!r}")


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput("flashsale.bad_request", message, field=field)


def _address(scope: Scope, forwarded: bytes | None) -> str:
    if forwarded:
        first = forwarded.split(b",", 1)[0].strip().decode("latin-1")
        if _ADDRESS.fullmatch(first):
            return first
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _turned_away(
    verdict: Limited | Waiting | Any, *, sku: str, person_id: str, quantity: int
) -> Answer:
    if isinstance(verdict, Limited):
        error = RateLimited(
            "flashsale.rate_limited",
            f"too many attempts from this {verdict.scope}; retry in a second",
        )
        retry = (b"retry-after", str(verdict.retry_after).encode())
        return 429, [_PROBLEM, retry], orjson.dumps(error_body(error))
    assert isinstance(verdict, Waiting)
    body = orjson.dumps(
        {
            "status": "waiting",
            "sku": sku,
            "person_id": person_id,
            "quantity": quantity,
            "ticket": verdict.ticket,
            "position": verdict.position,
            "retry_after": verdict.retry_after,
        }
    )
    return 202, [_JSON, (b"retry-after", str(verdict.retry_after).encode())], body


def document(app: FastAPI) -> None:
    """Add the route to the app's OpenAPI document, as FastAPI would describe it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ReservationCreate, ReservationPublic, WaitingPublic):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )

        def answer(description: str, model: str) -> dict[str, Any]:
            ref = {"$ref": f"#/components/schemas/{model}"}
            return {"description": description, "content": {"application/json": {"schema": ref}}}

        problem = {"description": "problem+json with a stable `code`; nothing was taken."}
        schema["paths"][PATH] = {
            "post": {
                "tags": ["flashsales"],
                "summary": "Reserve units for a shopper",
                "description": __doc__,
                "operationId": "reserve_flashsale",
                "parameters": [
                    {
                        "name": "sale_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 128},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ReservationCreate"}
                        }
                    },
                },
                "responses": {
                    "201": answer("Reserved.", "ReservationPublic"),
                    "200": answer("A repeat of an earlier request.", "ReservationPublic"),
                    "202": answer(
                        "In the waiting room: come back with the ticket.", "WaitingPublic"
                    ),
                    "401": problem,
                    "403": problem,
                    "404": problem,
                    "409": problem,
                    "422": problem,
                    "429": problem,
                    "503": problem,
                },
                "security": [{"HTTPBearer": []}],
            }
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
