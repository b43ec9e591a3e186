"""Supply alerts: the alerts with their status, the webhooks they go to, and one delivery per alert
and webhook.

Revision ID: 0007_supply_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_supply_alerts"
down_revision: str | None = "0006_supply"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "supply_alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column(
            "location_type", sa.String(length=16), nullable=False, comment="store, warehouse"
        ),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=32), nullable=False),
        sa.Column(
            "business_date", sa.Date(), nullable=False, comment="the day at whose close it holds"
        ),
        sa.Column("numbers", _JSON, nullable=False, comment="the figures behind it, per kind"),
        sa.Column(
            "status", sa.String(length=16), nullable=False, comment="open, acknowledged, resolved"
        ),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", _UTC, nullable=True),
        sa.Column("resolved_at", _UTC, nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True, comment="superseded, cleared"),
        sa.CheckConstraint(
            "kind IN ('stockout', 'late_delivery', 'short_delivery', 'expiring')",
            name=op.f("ck_supply_alerts_kind"),
        ),
        sa.CheckConstraint(
            "severity IN ('critical', 'high', 'medium')", name=op.f("ck_supply_alerts_severity")
        ),
        sa.CheckConstraint(
            "location_type IN ('store', 'warehouse')", name=op.f("ck_supply_alerts_location_type")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_supply_alerts_status")
        ),
        sa.CheckConstraint(
            "(status <> 'acknowledged' OR acknowledged_at IS NOT NULL)"
            " AND (status <> 'resolved' OR resolved_at IS NOT NULL)",
            name=op.f("ck_supply_alerts_status_times"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_alerts")),
        sa.UniqueConstraint(
            "kind",
            "location_type",
            "location_id",
            "material_id",
            "business_date",
            name="uq_supply_alerts_key",
        ),
    )
    op.create_index(
        "ix_supply_alerts_status_location",
        "supply_alerts",
        ["status", "location_type", "location_id"],
    )
    op.create_index("ix_supply_alerts_business_date", "supply_alerts", ["business_date"])
    op.create_table(
        "supply_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column(
            "secret_cipher",
            sa.LargeBinary(),
            nullable=False,
            comment="the HMAC signing secret, AES-GCM under the platform key",
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("deactivated_by", sa.String(length=64), nullable=True),
        sa.Column("deactivated_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_webhooks")),
    )
    op.create_table(
        "supply_alert_deliveries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.String(length=12),
            nullable=False,
            comment="pending, delivered, failed, skipped",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "last_status_code",
            sa.Integer(),
            nullable=True,
            comment="HTTP status of the last attempt",
        ),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("last_attempt_at", _UTC, nullable=True),
        sa.Column("delivered_at", _UTC, nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'skipped')",
            name=op.f("ck_supply_alert_deliveries_status"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 AND (status <> 'delivered' OR delivered_at IS NOT NULL)",
            name=op.f("ck_supply_alert_deliveries_progress"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["supply_alerts.id"],
            name=op.f("fk_supply_alert_deliveries_alert_id_supply_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["supply_webhooks.id"],
            name=op.f("fk_supply_alert_deliveries_webhook_id_supply_webhooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_alert_deliveries")),
        sa.UniqueConstraint(
            "alert_id",
            "webhook_id",
            name=op.f("uq_supply_alert_deliveries_alert_id_webhook_id"),
        ),
    )
    op.create_index(
        "ix_supply_alert_deliveries_status_id", "supply_alert_deliveries", ["status", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_supply_alert_deliveries_status_id", table_name="supply_alert_deliveries")
    op.drop_table("supply_alert_deliveries")
    op.drop_table("supply_webhooks")
    op.drop_index("ix_supply_alerts_business_date", table_name="supply_alerts")
    op.drop_index("ix_supply_alerts_status_location", table_name="supply_alerts")
    op.drop_table("supply_alerts")
