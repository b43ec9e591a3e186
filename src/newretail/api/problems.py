"""Every error the API returns is RFC 9457 problem+json with a stable ``code``; never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from newretail.errors import NewRetailError

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("newretail.api")

_HTTP_CODES = {
    400: "request.bad_request",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "request.not_found",
    405: "request.method_not_allowed",
    409: "request.conflict",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "request.rate_limited",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[dict[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    **members: str,
) -> JSONResponse:
    """A problem+json response; ``errors`` lists field-level problems (``field``, ``message``);
    ``members`` are extension members (``position``)."""
    body = problem_body(status, code, detail, errors=errors, **members)
    return JSONResponse(
        body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers) if headers else None
    )


def problem_body(
    status: int, code: str, detail: str, *, errors: Sequence[dict[str, Any]] = (), **members: Any
) -> dict[str, Any]:
    """The members of a problem document, for routes that encode their own responses."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": code.replace(".", " ").replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **members,
    }
    if errors:
        body["errors"] = list(errors)
    return body


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "batch", 3, "userId")`` → ``batch[3].userId``; the part of the request it is in
    (body, query...) is reported beside it, as ``in``."""
    parts = list(location[1:] if location and location[0] in _LOCATIONS else location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or str(location[0] if location else "body")


def error_body(error: NewRetailError) -> dict[str, Any]:
    """The problem document of a typed error: its status, stable code and field."""
    errors = [{"field": error.field, "message": error.message}] if error.field else []
    detail = f"{error.message} ({error.position})" if error.position else error.message
    extra: dict[str, Any] = {"position": error.position} if error.position else {}
    extra.update(error.extensions())
    return problem_body(error.http_status, error.code, detail, errors=errors, **extra)


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NewRetailError)
    headers = {"WWW-Authenticate": _challenge(request)} if error.http_status == 401 else None
    return JSONResponse(
        error_body(error), status_code=error.http_status, media_type=MEDIA_TYPE, headers=headers
    )


def _challenge(request: Request) -> str:
    # Event intake takes a write key as HTTP Basic (as Segment's SDKs send it); the rest a bearer key.
    return 'Basic realm="newretail"' if request.url.path.startswith("/v1/") else "Bearer"


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = error.errors()
    if any(item.get("type") == "json_invalid" for item in details):
        return problem(400, "request.malformed_json", "the body is not valid JSON")
    errors = [
        {
            "field": field_path(item["loc"]),
            "in": str(item["loc"][0]) if item["loc"] else "body",
            "message": item["msg"],
            "type": item["type"],
        }
        for item in details
    ]
    first = errors[0]
    return problem(422, "request.invalid", f"{first['field']}: {first['message']}", errors=errors)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http.{error.status_code}")
    return problem(error.status_code, code, str(error.detail), headers=error.headers)


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "internal", "an internal error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(NewRetailError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
