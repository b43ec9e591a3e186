"""The dependencies every router shares, as ``Annotated`` aliases: the process's runtime, the clock,
a transactional connection, the calling user and a source's write key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBasic, HTTPBearer
from fastapi.security import HTTPBasicCredentials as BasicCredentials
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from newretail.api.runtime import Runtime
from newretail.errors import Unauthorized
from newretail.security import (
    Principal,
    SessionPolicy,
    SourceWriter,
    authenticate_user_key,
    check_csrf,
    resolve_session,
)

SESSION_COOKIE = "newretail_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A user API key: `Authorization: Bearer nru_…`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The console's session cookie"
)
_basic = HTTPBasic(
    auto_error=False, description="A source's write key as the user name, empty password"
)


# The two below are coroutines only so FastAPI calls them on the loop: a plain function would cost
# every request a hop through the thread pool.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_now() -> dt.datetime:
    """The wall clock, read here at the edge (tests override this dependency)."""
    return dt.datetime.now(dt.UTC)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Now = Annotated[dt.datetime, Depends(get_now)]


def get_principal(
    request: Request,
    runtime: RuntimeDep,
    now: Now,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The user behind a bearer API key or a console session cookie (with its CSRF header on writes).

    Authentication commits on its own: a key's recorded use stands even if the call then fails.
    """
    if bearer is not None:
        with runtime.engine.begin() as conn:
            return authenticate_user_key(conn, bearer.credentials, now=now)
    if session_token:
        policy = SessionPolicy.from_settings(runtime.settings)
        with runtime.engine.begin() as conn:
            session = resolve_session(conn, session_token, now=now, policy=policy)
        if request.method not in SAFE_METHODS:
            check_csrf(session_token, request.headers.get(CSRF_HEADER))
        return session.principal
    raise Unauthorized(
        "auth.missing_credentials", "send a user API key as `Authorization: Bearer <key>`"
    )


async def get_source_writer(
    runtime: RuntimeDep,
    now: Now,
    credentials: Annotated[BasicCredentials | None, Depends(_basic)],
) -> SourceWriter:
    """The source a write key sends for: HTTP Basic, key as the user name, as Segment's SDKs send it.

    Checks are remembered for a few seconds (see :mod:`newretail.api.keycache`)."""
    if credentials is None or not credentials.username:
        raise Unauthorized(
            "auth.missing_write_key", "send the write key as the HTTP Basic user name"
        )
    known = runtime.write_keys.cached(credentials.username)
    if known is not None:
        return known
    return await run_in_threadpool(runtime.write_keys.authenticate, credentials.username, now=now)


async def get_key_principal(
    runtime: RuntimeDep,
    now: Now,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The user behind a bearer API key, checked once per few seconds (see
    :mod:`newretail.api.keycache`): for routes a channel's backend calls at a flash sale's peak,
    where a database round trip per call is too dear. No console sessions here."""
    if bearer is None:
        raise Unauthorized(
            "auth.missing_credentials", "send a user API key as `Authorization: Bearer <key>`"
        )
    return await runtime.user_keys.acheck(bearer.credentials, now=now)


async def get_cached_principal(
    request: Request,
    runtime: RuntimeDep,
    now: Now,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """:func:`get_principal`, but a bearer key's check is remembered for a few seconds (see
    :mod:`newretail.api.keycache`), as on :func:`get_key_principal`: for the checkout routes, which
    every order calls. A console session is checked as ever."""
    if bearer is not None:
        return await runtime.user_keys.acheck(bearer.credentials, now=now)
    return await run_in_threadpool(get_principal, request, runtime, now, None, session_token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
KeyPrincipal = Annotated[Principal, Depends(get_key_principal)]
CachedPrincipal = Annotated[Principal, Depends(get_cached_principal)]
CurrentSource = Annotated[SourceWriter, Depends(get_source_writer)]


def get_conn(runtime: RuntimeDep, _caller: CurrentPrincipal) -> Iterator[Connection]:
    """One transaction for the handler: committed before the response is sent, rolled back on error.

    It opens after authentication has committed, never around it (on SQLite the two would be two
    writers waiting on each other).
    """
    with runtime.engine.begin() as conn:
        yield conn


def get_cached_conn(runtime: RuntimeDep, _caller: CachedPrincipal) -> Iterator[Connection]:
    """:func:`get_conn` for the routes that authenticate with :data:`CachedPrincipal`."""
    with runtime.engine.begin() as conn:
        yield conn


DbConn = Annotated[Connection, Depends(get_conn, scope="function")]
CachedDbConn = Annotated[Connection, Depends(get_cached_conn, scope="function")]
