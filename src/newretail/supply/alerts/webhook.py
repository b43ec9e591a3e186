"""Sending queued alerts to their webhooks: each delivery POSTs the alert as JSON, signed with the
webhook's secret (``X-NewRetail-Signature: sha256=<hex HMAC-SHA256 of the body>``) and carrying the
delivery's natural key as ``Idempotency-Key`` and as the payload's ``id``.

Every attempt is claimed and recorded in its own short transaction, never around the HTTP call: a
delivery is marked delivered once, on the first 2xx answer, and never sent again. A sender killed
between a receiver's 2xx and recording it sends that delivery again on its next run, with the same
id and body, so a receiver may see a retry but never two different ids for one alert. A failure
(connection error, timeout, a non-2xx answer, redirects included) is retried with exponential
backoff, ``Retry.attempts`` times per run; after ``Retry.give_up_after`` attempts in all the
delivery is marked failed. A webhook that fails a delivery in a run is not tried again in that run:
its other deliveries wait for the next one, so a receiver that is down costs one delivery's retries
and timeouts per run, not every delivery's. An alert resolved (superseded or cleared) before it
could be sent is not sent: its delivery is marked skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from newretail.oltp.supply_alert_tables import (
    supply_alert_deliveries,
    supply_alerts,
    supply_webhooks,
)
from newretail.security.pii import PiiProtector
from newretail.supply.alerts.queries import StoredAlert

SIGNATURE_HEADER = "X-NewRetail-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_TYPE = "supply.alert"

# POST the body to the URL with the headers within the timeout (seconds); the HTTP status, or
# OSError when no answer came.
Post = Callable[[str, bytes, Mapping[str, str], float], int]


@dataclass(frozen=True)
class Retry:
    attempts: int = 3  # per delivery and run
    first_delay_s: float = 1.0  # doubled after each failure
    give_up_after: int = 10  # attempts in all, over runs
    timeout_s: float = 10.0


DEFAULT_RETRY = Retry()


@dataclass(frozen=True)
class SendReport:
    delivered: int
    failed: int  # given up on in this run
    pending: int  # still to retry on a later run
    skipped: int  # their alert was resolved before it could be sent


def delivery_key(alert_key: str, webhook_id: int) -> str:
    """The natural key of sending one alert to one webhook.

    >>> delivery_key("stockout/store/S1/M2/2026-03-01", 3)
    'supply-alert:stockout/store/S1/M2/2026-03-01:webhook:3'
    """
    return f"supply-alert:{alert_key}:webhook:{webhook_id}"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(alert: StoredAlert, webhook_id: int) -> bytes:
    """The JSON a webhook receives; the same bytes on every attempt."""
    document = {
        "id": delivery_key(alert.key, webhook_id),
        "type": EVENT_TYPE,
        "alert": {
            "id": alert.id,
            "key": alert.key,
            "kind": alert.kind,
            "severity": alert.severity,
            "location_type": alert.location_type,
            "location_id": alert.location_id,
            "material_id": alert.material_id,
            "business_date": alert.business_date.isoformat(),
            "numbers": alert.numbers,
            "created_at": alert.created_at.isoformat(),
        },
        "route": alert.route.as_json(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def send_pending(
    oltp: Engine,
    *,
    protector: PiiProtector,
    now: dt.datetime,
    retry: Retry = DEFAULT_RETRY,
    post: Post | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send every pending delivery to its (active) webhook, oldest first."""
    with oltp.connect() as conn:
        rows = (
            conn.execute(
                select(
                    *supply_alerts.c,
                    supply_alert_deliveries.c.id.label("delivery_id"),
                    supply_alert_deliveries.c.attempts.label("attempts"),
                    supply_webhooks.c.id.label("webhook_id"),
                    supply_webhooks.c.url,
                    supply_webhooks.c.secret_cipher,
                )
                .join(supply_alerts, supply_alerts.c.id == supply_alert_deliveries.c.alert_id)
                .join(supply_webhooks, supply_webhooks.c.id == supply_alert_deliveries.c.webhook_id)
                .where(supply_alert_deliveries.c.status == "pending", supply_webhooks.c.active)
                .order_by(supply_alert_deliveries.c.id)
            )
            .mappings()
            .all()
        )
    sender = _Sender(oltp, retry, post or post_json, sleep, now)
    outcomes = {"delivered": 0, "failed": 0, "pending": 0, "skipped": 0}
    down: set[int] = set()  # webhooks that failed in this run: their other deliveries wait
    for row in rows:
        if row["status"] == "resolved":  # the alert's status
            _skip(oltp, row["delivery_id"])
            outcomes["skipped"] += 1
            continue
        if row["webhook_id"] in down:
            outcomes["pending"] += 1
            continue
        alert = StoredAlert(**{c.name: row[c.name] for c in supply_alerts.c})
        body = payload(alert, row["webhook_id"])
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(protector.decrypt(row["secret_cipher"]), body),
            IDEMPOTENCY_HEADER: delivery_key(alert.key, row["webhook_id"]),
        }
        outcome = sender.deliver(row["delivery_id"], row["attempts"], row["url"], body, headers)
        if outcome in ("failed", "pending"):
            down.add(row["webhook_id"])
        outcomes["pending" if outcome == "taken" else outcome] += 1
    return SendReport(**outcomes)


@dataclass(frozen=True)
class _Sender:
    oltp: Engine
    retry: Retry
    post: Post
    sleep: Callable[[float], None]
    now: dt.datetime

    def deliver(
        self, delivery_id: int, attempts: int, url: str, body: bytes, headers: Mapping[str, str]
    ) -> str:
        """Up to ``retry.attempts`` attempts at one delivery: delivered, failed (given up on),
        pending (to retry on a later run) or taken (another sender moved it on)."""
        for attempt in range(self.retry.attempts):
            if attempt:
                self.sleep(self.retry.first_delay_s * 2 ** (attempt - 1))
            if not _claim(self.oltp, delivery_id, attempts, self.now):
                return "taken"
            attempts += 1
            try:
                status, error = self.post(url, body, headers, self.retry.timeout_s), None
            except OSError as failure:
                status, error = None, f"{type(failure).__name__}: {failure}"[:200]
            ok = status is not None and 200 <= status < 300
            gave_up = not ok and attempts >= self.retry.give_up_after
            values: dict[str, Any] = {"last_status_code": status, "last_error": error}
            if ok:
                values.update(status="delivered", delivered_at=self.now)
            elif gave_up:
                values.update(status="failed", last_error=error or f"HTTP {status}")
            with self.oltp.begin() as conn:
                conn.execute(
                    update(supply_alert_deliveries)
                    .where(supply_alert_deliveries.c.id == delivery_id)
                    .values(**values)
                )
            if ok or gave_up:
                return "delivered" if ok else "failed"
        return "pending"


def _skip(oltp: Engine, delivery_id: int) -> None:
    with oltp.begin() as conn:
        conn.execute(
            update(supply_alert_deliveries)
            .where(
                supply_alert_deliveries.c.id == delivery_id,
                supply_alert_deliveries.c.status == "pending",
            )
            .values(status="skipped", last_error="alert resolved before it was sent")
        )


def _claim(oltp: Engine, delivery_id: int, attempts: int, now: dt.datetime) -> bool:
    """Count one more attempt if the delivery is still pending at ``attempts``: False when another
    sender moved it on (or it was delivered meanwhile)."""
    with oltp.begin() as conn:
        claimed = conn.execute(
            update(supply_alert_deliveries)
            .where(
                supply_alert_deliveries.c.id == delivery_id,
                supply_alert_deliveries.c.status == "pending",
                supply_alert_deliveries.c.attempts == attempts,
            )
            .values(attempts=attempts + 1, last_attempt_at=now)
        )
    return claimed.rowcount == 1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not somewhere to re-send a signed alert."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST with the standard library (the webhook URL was checked to be http or https)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
