"""Supply alerts (``supply.read``, within the caller's stores): the list with filters, one alert, and
acknowledging one (a store manager its own stores', a planner any); the webhooks alerts are sent to
(``supply.write``). Every change takes an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once_keyed
from newretail.api.pagination import Page
from newretail.api.supply_alert_models import (
    AlertKind,
    AlertPublic,
    AlertsPublic,
    AlertStatus,
    WebhookCreate,
    WebhookCreatedPublic,
    WebhookPublic,
    WebhooksPublic,
)
from newretail.supply.alerts import (
    acknowledge_alert,
    add_webhook,
    deactivate_webhook,
    get_alert,
    list_alerts,
    list_webhooks,
)

router = APIRouter(prefix="/api/v1/supply", tags=["supply alerts"])

AlertId = Annotated[int, Path(ge=1)]
WebhookId = Annotated[int, Path(ge=1)]


@router.get("/alerts")
def read_alerts(
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    kind: AlertKind | None = None,
    status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
    location_id: Annotated[
        str | None, Query(max_length=32, description="A store or DC.", examples=["S0001"])
    ] = None,
) -> AlertsPublic:
    """The alerts the caller may see, most severe first, then newest: a store manager's stores'
    alerts, every alert for a planner."""
    found = list_alerts(
        conn,
        principal,
        kind=kind,
        status=status_,
        location_id=location_id,
        limit=page.limit,
        offset=page.offset,
    )
    return AlertsPublic(data=[AlertPublic.of(a) for a in found.data], count=found.count)


@router.get("/alerts/{alert_id}")
def read_alert(alert_id: AlertId, conn: DbConn, principal: CurrentPrincipal) -> AlertPublic:
    return AlertPublic.of(get_alert(conn, principal, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge(
    alert_id: AlertId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Acknowledge an open alert; acknowledging again answers with the first acknowledgement."""

    def work() -> AlertPublic:
        return AlertPublic.of(acknowledge_alert(conn, alert_id, actor=principal, now=now))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


@router.get("/webhooks")
def read_webhooks(conn: DbConn, principal: CurrentPrincipal) -> WebhooksPublic:
    """Every webhook, active ones first."""
    found = list_webhooks(conn, principal)
    return WebhooksPublic(data=[WebhookPublic.of(w) for w in found], count=len(found))


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreatedPublic)
def create_webhook(
    payload: WebhookCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Add a webhook; the answer holds its signing secret, shown this once."""

    def work() -> WebhookCreatedPublic:
        made = add_webhook(
            conn,
            url=payload.url,
            description=payload.description,
            actor=principal,
            protector=runtime.protector,
            now=now,
        )
        public = WebhookPublic.of(made.webhook)
        return WebhookCreatedPublic(**public.model_dump(), secret=made.secret)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post("/webhooks/{webhook_id}/deactivate", response_model=WebhookPublic)
def deactivate(
    webhook_id: WebhookId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Stop sending to a webhook; what still waited for it is marked failed."""

    def work() -> WebhookPublic:
        return WebhookPublic.of(deactivate_webhook(conn, webhook_id, actor=principal, now=now))

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )
