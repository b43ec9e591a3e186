"""The supply alert API's models: an alert with its figures and who it is for, the webhooks alerts are
sent to, and a new webhook with its signing secret (shown once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any, Literal

from pydantic import Field

from newretail.api.models import Create, Public
from newretail.supply.alerts import StoredAlert, Webhook

AlertKind = Literal["stockout", "late_delivery", "short_delivery", "expiring"]
AlertStatus = Literal["open", "acknowledged", "resolved"]


class RoutePublic(Public):
    roles: list[str] = Field(description="Roles the alert is for.")
    store_id: str | None = Field(description="The store whose managers are meant, if any.")


class AlertPublic(Public):
    id: int
    key: str = Field(description="Natural key: kind/location type/location/material/day.")
    kind: AlertKind
    severity: Literal["critical", "high", "medium"]
    location_type: Literal["store", "warehouse"]
    location_id: str
    material_id: str
    business_date: dt.date = Field(description="The day at whose close it holds.")
    numbers: dict[str, Any] = Field(
        description="The figures behind it (base units, minor units, ISO dates), per kind."
    )
    status: AlertStatus
    route: RoutePublic
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: Literal["superseded", "cleared"] | None

    @classmethod
    def of(cls, alert: StoredAlert) -> AlertPublic:
        return cls.model_validate(
            {**asdict(alert), "key": alert.key, "route": alert.route.as_json()}
        )


class AlertsPublic(Public):
    data: list[AlertPublic]
    count: int


class WebhookCreate(Create):
    url: str = Field(max_length=2000, examples=["https://ops.example.com/hooks/supply"])
    description: str = Field(default="", max_length=200, examples=["Ops on-call channel"])


class WebhookPublic(Public):
    id: int
    url: str
    description: str
    active: bool
    created_by: str
    created_at: dt.datetime
    deactivated_by: str | None
    deactivated_at: dt.datetime | None

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookPublic:
        return cls.model_validate(webhook)


class WebhookCreatedPublic(WebhookPublic):
    secret: str = Field(
        description="Signs each POST (X-NewRetail-Signature: sha256=<hex HMAC of the body>)."
        " Shown this once."
    )


class WebhooksPublic(Public):
    data: list[WebhookPublic]
    count: int
