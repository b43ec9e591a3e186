"""The obvious way to take a reservation, for bench/flashsale.py to measure beside the real route:
the same app with one more FastAPI route that authenticates the API key in the database on every
call, claims and completes an OLTP idempotency row, and calls the engine's blocking ``reserve``.

Run by uvicorn as ``flashsale_obvious:app`` (a factory) with ``--app-dir bench``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

from newretail.api import create_app
from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.flashsale_models import ReservationCreate, ReservationPublic
from newretail.api.idempotency import IdempotencyKey, respond_once
from newretail.config import get_settings
from newretail.flashsale import Rejection
from newretail.security import Permission


def app() -> FastAPI:
    application = create_app(get_settings())

    @application.post("/api/v1/flashsales/{sale_id}/obvious-reservations")
    def reserve(
        sale_id: str,
        payload: ReservationCreate,
        request: Request,
        conn: DbConn,
        principal: CurrentPrincipal,
        runtime: RuntimeDep,
        now: Now,
        idempotency: IdempotencyKey,
    ) -> Response:
        principal.require(Permission.FLASHSALES_RESERVE)

        def work() -> BaseModel:
            outcome = runtime.flashsale.reserve(
                sale_id,
                sku=payload.sku,
                person_id=payload.person_id,
                quantity=payload.quantity,
                request_key=idempotency.key or "",
                now=now,
            )
            if isinstance(outcome, Rejection):
                raise outcome.error()
            return ReservationPublic.model_validate(outcome)

        return respond_once(
            conn,
            request=idempotency,
            principal=principal,
            protector=runtime.protector,
            now=now,
            status_code=201,
            work=work,
            required=True,
        )

    return application
