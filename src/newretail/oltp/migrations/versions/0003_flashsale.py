"""Flash sales: sales, their items, the persons eligible for them, and the orders of their reservations.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "flashsale_sales",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, comment="draft, armed"),
        sa.Column("starts_at", _UTC, nullable=False),
        sa.Column("ends_at", _UTC, nullable=False),
        sa.Column("per_person_limit", sa.Integer, nullable=False, comment="units across all items"),
        sa.Column("payment_window_seconds", sa.Integer, nullable=False),
        sa.Column("channels", _JSON, nullable=False, comment='e.g. ["app", "wechat_mini"]'),
        sa.Column("eligibility", sa.String(8), nullable=False, comment="everyone, list, audience"),
        sa.Column("audience_id", sa.String(64), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("armed_at", _UTC, nullable=True),
        sa.Column("closed_at", _UTC, nullable=True, comment="ended early; ends_at is then this"),
        sa.PrimaryKeyConstraint("id", name="pk_flashsale_sales"),
        sa.CheckConstraint("status IN ('draft', 'armed')", name="ck_flashsale_sales_status"),
        sa.CheckConstraint(
            "eligibility IN ('everyone', 'list', 'audience')",
            name="ck_flashsale_sales_eligibility",
        ),
        sa.CheckConstraint(
            "(eligibility = 'audience') = (audience_id IS NOT NULL)",
            name="ck_flashsale_sales_audience",
        ),
        sa.CheckConstraint(
            "per_person_limit > 0 AND payment_window_seconds > 0",
            name="ck_flashsale_sales_positive",
        ),
    )
    op.create_table(
        "flashsale_items",
        sa.Column("sale_id", sa.String(40), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("stock", sa.Integer, nullable=False, comment="units for sale"),
        sa.Column(
            "price_minor",
            sa.BigInteger,
            nullable=False,
            comment="unit price in minor units (fen)",
        ),
        sa.Column("currency", sa.String(3), nullable=False, comment="ISO 4217"),
        sa.PrimaryKeyConstraint("sale_id", "sku", name="pk_flashsale_items"),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["flashsale_sales.id"],
            ondelete="CASCADE",
            name="fk_flashsale_items_sale_id_flashsale_sales",
        ),
        sa.CheckConstraint("stock > 0 AND price_minor >= 0", name="ck_flashsale_items_amounts"),
    )
    op.create_table(
        "flashsale_eligible",
        sa.Column("sale_id", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sale_id", "person_id", name="pk_flashsale_eligible"),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["flashsale_sales.id"],
            ondelete="CASCADE",
            name="fk_flashsale_eligible_sale_id_flashsale_sales",
        ),
    )
    op.create_table(
        "flashsale_orders",
        sa.Column("reservation_id", sa.String(64), nullable=False),
        sa.Column("sale_id", sa.String(40), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False, comment="unit price when reserved"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, comment="reserved, paid, expired"),
        sa.Column("request_key", sa.String(128), nullable=False),
        sa.Column("reserved_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("paid_at", _UTC, nullable=True),
        sa.Column("expired_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("reservation_id", name="pk_flashsale_orders"),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["flashsale_sales.id"], name="fk_flashsale_orders_sale_id_flashsale_sales"
        ),
        sa.CheckConstraint(
            "status IN ('reserved', 'paid', 'expired')", name="ck_flashsale_orders_status"
        ),
    )
    op.create_index("ix_flashsale_orders_sale_id_status", "flashsale_orders", ["sale_id", "status"])
    op.create_index(
        "ix_flashsale_orders_sale_id_person_id", "flashsale_orders", ["sale_id", "person_id"]
    )


def downgrade() -> None:
    op.drop_table("flashsale_orders")
    op.drop_table("flashsale_eligible")
    op.drop_table("flashsale_items")
    op.drop_table("flashsale_sales")
