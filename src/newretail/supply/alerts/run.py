"""One day's alert run, as the CLI calls it: compute from the lake, save to the OLTP store (new
alerts queued for the webhooks, older ones closed), then send what is queued."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from newretail.config import Engine as EngineName
from newretail.lake.storage import Lake
from newretail.security.pii import PiiProtector
from newretail.supply.alerts.alert import Skipped
from newretail.supply.alerts.compute import compute_alerts
from newretail.supply.alerts.expiry import DEFAULT_WINDOW_DAYS
from newretail.supply.alerts.store import close_stale, save_alerts
from newretail.supply.alerts.webhook import DEFAULT_RETRY, Retry, SendReport, send_pending


@dataclass(frozen=True)
class AlertReport:
    as_of: dt.date
    by_kind: dict[str, int]  # the day's alerts per kind
    by_severity: dict[str, int]
    new: int  # alerts the store did not hold before
    updated: int  # alerts of a day run before, updated in place
    resolved: int  # older alerts closed as superseded or cleared
    queued: int  # webhook deliveries queued for the new alerts
    skipped: list[Skipped]
    sent: SendReport | None  # None when sending was not asked for


def run_alerts(
    lake: Lake,
    engine: EngineName,
    oltp: Engine,
    *,
    as_of: dt.date,
    now: dt.datetime,
    protector: PiiProtector,
    send: bool = True,
    window_days: int = DEFAULT_WINDOW_DAYS,
    retry: Retry = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertReport:
    """Compute the alerts as of the close of ``as_of``, save them in one transaction, then (with
    ``send``) deliver every pending webhook delivery. Running a day again changes nothing new:
    alerts are updated in place and sent once."""
    computed = compute_alerts(lake, engine=engine, as_of=as_of, window_days=window_days)
    with oltp.begin() as conn:
        saved = save_alerts(conn, computed.alerts, now=now)
        resolved = close_stale(
            conn, as_of=as_of, kinds=computed.kinds, current=computed.alerts, now=now
        )
    sent = (
        send_pending(oltp, protector=protector, now=now, retry=retry, sleep=sleep) if send else None
    )
    return AlertReport(
        as_of=as_of,
        by_kind=dict(Counter(a.kind for a in computed.alerts)),
        by_severity=dict(Counter(a.severity for a in computed.alerts)),
        new=len(saved.new_ids),
        updated=saved.updated,
        resolved=resolved,
        queued=saved.queued,
        skipped=computed.skipped,
        sent=sent,
    )
