"""Supply alerts: projected stock-outs, late and short deliveries and expiring stock, computed as of a
day's close (:func:`run_alerts`), kept in the OLTP store for the right store manager or planner, and
sent to webhooks."""

from newretail.supply.alerts.alert import (
    KINDS,
    SEVERITIES,
    Alert,
    Computed,
    Kind,
    Severity,
    Skipped,
)
from newretail.supply.alerts.compute import compute_alerts
from newretail.supply.alerts.queries import (
    STATUSES,
    AlertPage,
    StoredAlert,
    acknowledge_alert,
    get_alert,
    list_alerts,
)
from newretail.supply.alerts.routing import Route, route
from newretail.supply.alerts.run import AlertReport, run_alerts
from newretail.supply.alerts.store import Saved, close_stale, save_alerts
from newretail.supply.alerts.webhook import Retry, SendReport, send_pending
from newretail.supply.alerts.webhook_config import (
    NewWebhook,
    Webhook,
    add_webhook,
    deactivate_webhook,
    list_webhooks,
)

__all__ = [
    "KINDS",
    "SEVERITIES",
    "STATUSES",
    "Alert",
    "AlertPage",
    "AlertReport",
    "Computed",
    "Kind",
    "NewWebhook",
    "Retry",
    "Route",
    "Saved",
    "SendReport",
    "Severity",
    "Skipped",
    "StoredAlert",
    "Webhook",
    "acknowledge_alert",
    "add_webhook",
    "close_stale",
    "compute_alerts",
    "deactivate_webhook",
    "get_alert",
    "list_alerts",
    "list_webhooks",
    "route",
    "run_alerts",
    "save_alerts",
    "send_pending",
]
