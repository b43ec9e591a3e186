"""The application factory: routers, problem+json errors, and a lifespan that opens the runtime.

``newretail serve`` runs :func:`app_from_env` under uvicorn; tests call :func:`create_app` with their
own settings.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

import newretail
from newretail.api import problems, reservations
from newretail.api.routers import (
    audience_queries,
    audiences,
    audit,
    catalogue,
    coupons,
    flashsales,
    health,
    identity,
    intake,
    keys,
    loyalty,
    loyalty_moves,
    me,
    orders,
    people,
    persons,
    service,
    stores,
    supply_alerts,
    supply_forecast,
    supply_health,
    supply_plans,
    tags,
    users,
)
from newretail.api.runtime import DEFAULT_STREAM_PREFIX, open_runtime
from newretail.config import Settings, get_settings

_DESCRIPTION = """The newretail HTTP API.

* `/v1/*`: Segment-compatible event intake, authenticated by a source's write key (HTTP Basic).
* `/api/v1/*`: everything else, with a user API key (`Authorization: Bearer nru_…`) or a console
  session cookie (plus `X-CSRF-Token` on writes). Mutating calls honour `Idempotency-Key`.
* `/api/v1/flashsales/*`: flash sales; a channel's backend reserves and pays with its API key.

Errors are `application/problem+json` with a stable `code`; field errors name the field path.
"""


class App(FastAPI):
    """FastAPI, with the flash-sale reservation route answered before FastAPI's middleware and
    routing: at thousands of calls a second their per-request work (telemetry checks, exception
    middleware, routing, dependency resolution) would cost more than the reservation does."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sale_id = reservations.reservation_sale(scope)
        if sale_id is None:
            await super().__call__(scope, receive, send)
        else:
            await reservations.serve(self, scope, receive, send, sale_id)


def create_app(
    settings: Settings,
    *,
    stream_prefix: str = DEFAULT_STREAM_PREFIX,
    flush_in_background: bool = True,
) -> FastAPI:
    """The API (and the console, when installed) over ``settings``.

    Startup refuses an un-migrated or unreachable database with ``DatabaseNotReady``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings, stream_prefix=stream_prefix, flush=flush_in_background)
        # The console's dependencies read these from app.state.
        app.state.runtime = runtime
        app.state.settings = settings
        app.state.engine = runtime.engine
        app.state.lake = runtime.lake
        app.state.flashsale = runtime.flashsale
        app.state.gate = runtime.gate
        try:
            yield
        finally:
            await runtime.aclose()

    app = App(
        title="newretail",
        version=newretail.__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
    )
    problems.install(app)
    for module in (
        health,
        intake,
        people,
        users,
        keys,
        audit,
        me,
        stores,
        identity,
        persons,
        flashsales,
        audience_queries,
        audiences,
        tags,
        loyalty,
        loyalty_moves,
        coupons,
        orders,
        catalogue,
        service,
        supply_plans,
        supply_health,
        supply_alerts,
        supply_forecast,
    ):
        app.include_router(module.router)
    reservations.document(app)
    _mount_console(app)
    return app


def app_from_env() -> FastAPI:
    """The app over the process's settings (NEWRETAIL_* variables): uvicorn's factory.

    It also freezes the heap as it stands (the imported modules, mostly): the garbage collector then
    skips those objects, and its full passes, which intake and the flusher trigger often, stay short.
    """
    app = create_app(get_settings())
    gc.collect()
    gc.freeze()
    return app


def _mount_console(app: FastAPI) -> None:
    from newretail.web import routes

    app.include_router(routes.router)
    routes.mount_static(app)
