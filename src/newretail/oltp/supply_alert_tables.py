"""The supply alerts' OLTP tables: the alerts with their status, the webhooks they are sent to, and
one delivery row per alert and webhook. They share :data:`newretail.oltp.tables.metadata`."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from newretail.oltp.columns import UtcDateTime
from newretail.oltp.tables import BigId, Json, metadata

# One alert per kind, location, material and day: re-running a day updates it in place.
supply_alerts = Table(
    "supply_alerts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("location_type", String(16), nullable=False, comment="store, warehouse"),
    Column("location_id", String(32), nullable=False),
    Column("material_id", String(32), nullable=False),
    Column("business_date", Date, nullable=False, comment="the day at whose close it holds"),
    Column("numbers", Json, nullable=False, comment="the figures behind it, per kind"),
    Column("status", String(16), nullable=False, comment="open, acknowledged, resolved"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolution", String(16), nullable=True, comment="superseded, cleared"),
    # Named by hand: the generated name is longer than PostgreSQL's 63-character identifiers.
    UniqueConstraint(
        "kind",
        "location_type",
        "location_id",
        "material_id",
        "business_date",
        name="uq_supply_alerts_key",
    ),
    Index("ix_supply_alerts_status_location", "status", "location_type", "location_id"),
    Index("ix_supply_alerts_business_date", "business_date"),
    CheckConstraint(
        "kind IN ('stockout', 'late_delivery', 'short_delivery', 'expiring')", name="kind"
    ),
    CheckConstraint("severity IN ('critical', 'high', 'medium')", name="severity"),
    CheckConstraint("location_type IN ('store', 'warehouse')", name="location_type"),
    CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status"),
    CheckConstraint(
        "(status <> 'acknowledged' OR acknowledged_at IS NOT NULL)"
        " AND (status <> 'resolved' OR resolved_at IS NOT NULL)",
        name="status_times",
    ),
)

supply_webhooks = Table(
    "supply_webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("description", String(200), nullable=False),
    Column(
        "secret_cipher",
        LargeBinary,
        nullable=False,
        comment="the HMAC signing secret, AES-GCM under the platform key",
    ),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deactivated_by", String(64), nullable=True),
    Column("deactivated_at", UtcDateTime, nullable=True),
)

# The natural key: an alert goes to a webhook at most once (a retry re-sends the same delivery).
supply_alert_deliveries = Table(
    "supply_alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("alert_id", ForeignKey("supply_alerts.id"), nullable=False),
    Column("webhook_id", ForeignKey("supply_webhooks.id"), nullable=False),
    Column("status", String(12), nullable=False, comment="pending, delivered, failed, skipped"),
    Column("attempts", Integer, nullable=False),
    Column("last_status_code", Integer, nullable=True, comment="HTTP status of the last attempt"),
    Column("last_error", String(200), nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("alert_id", "webhook_id"),
    Index("ix_supply_alert_deliveries_status_id", "status", "id"),
    CheckConstraint("status IN ('pending', 'delivered', 'failed', 'skipped')", name="status"),
    CheckConstraint(
        "attempts >= 0 AND (status <> 'delivered' OR delivered_at IS NOT NULL)", name="progress"
    ),
)
