"""Replenishment: plans per origin day and service level, their lines with explanations and the
planners' decisions, and the purchase orders approved lines become.

Revision ID: 0006_supply
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_supply"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supply_plans",
        sa.Column("id", _ID, nullable=False),
        sa.Column(
            "origin",
            sa.Date(),
            nullable=False,
            comment="the day at whose close the orders are placed",
        ),
        sa.Column(
            "service_level_bp", sa.Integer(), nullable=False, comment="basis points: 9800 is 98%"
        ),
        sa.Column("forecast_model", sa.String(length=64), nullable=False),
        sa.Column(
            "lines",
            sa.Integer(),
            nullable=False,
            comment="proposal lines, with or without an order",
        ),
        sa.Column(
            "order_lines",
            sa.Integer(),
            nullable=False,
            comment="lines proposing at least one pack",
        ),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("saved_at", _UTC, nullable=False, comment="last replaced (while undecided)"),
        sa.CheckConstraint(
            "lines >= 0 AND order_lines >= 0 AND order_lines <= lines",
            name=op.f("ck_supply_plans_counts"),
        ),
        sa.CheckConstraint(
            "service_level_bp > 0 AND service_level_bp < 10000",
            name=op.f("ck_supply_plans_service_level"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_plans")),
        sa.UniqueConstraint(
            "origin", "service_level_bp", name=op.f("uq_supply_plans_origin_service_level_bp")
        ),
    )
    op.create_table(
        "supply_plan_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column(
            "location_type", sa.String(length=16), nullable=False, comment="store, warehouse"
        ),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=32), nullable=False),
        sa.Column(
            "material_name", sa.String(length=200), nullable=False, comment="as named when planned"
        ),
        sa.Column("from_type", sa.String(length=16), nullable=False, comment="warehouse, supplier"),
        sa.Column("from_id", sa.String(length=32), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("pack_size", sa.BigInteger(), nullable=False, comment="base units per pack"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pack_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "forecast_milli", sa.BigInteger(), nullable=False, comment="over the protection period"
        ),
        sa.Column("safety_stock_milli", sa.BigInteger(), nullable=False),
        sa.Column("order_up_to_milli", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column(
            "in_transit", sa.BigInteger(), nullable=False, comment="arriving within the period"
        ),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("raw_need", sa.BigInteger(), nullable=False),
        sa.Column("shelf_life_cap", sa.BigInteger(), nullable=False),
        sa.Column(
            "reason",
            sa.String(length=32),
            nullable=False,
            comment="supply.replenish.policy.REASONS",
        ),
        sa.Column("proposed_packs", sa.Integer(), nullable=False),
        sa.Column(
            "final_packs", sa.Integer(), nullable=True, comment="the planner's packs after an edit"
        ),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="proposed, approved, edited, rejected",
        ),
        sa.Column("edited_by", sa.String(length=64), nullable=True),
        sa.Column("edit_reason", sa.String(length=500), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "decided_by",
            sa.String(length=64),
            nullable=True,
            comment="the last edit, approval or rejection",
        ),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.CheckConstraint(
            "from_type IN ('warehouse', 'supplier')", name=op.f("ck_supply_plan_lines_from_type")
        ),
        sa.CheckConstraint(
            "location_type IN ('store', 'warehouse')",
            name=op.f("ck_supply_plan_lines_location_type"),
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'edited', 'rejected')",
            name=op.f("ck_supply_plan_lines_status"),
        ),
        sa.CheckConstraint(
            "proposed_packs >= 0 AND (final_packs IS NULL OR final_packs >= 0)",
            name=op.f("ck_supply_plan_lines_packs"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["supply_plans.id"], name=op.f("fk_supply_plan_lines_plan_id_supply_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_plan_lines")),
        sa.UniqueConstraint(
            "plan_id",
            "location_type",
            "location_id",
            "material_id",
            name="uq_supply_plan_lines_key",
        ),
    )
    op.create_table(
        "supply_purchase_orders",
        sa.Column("id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("location_type", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("from_type", sa.String(length=16), nullable=False),
        sa.Column("from_id", sa.String(length=32), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["supply_plans.id"],
            name=op.f("fk_supply_purchase_orders_plan_id_supply_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_purchase_orders")),
        sa.UniqueConstraint(
            "plan_id",
            "location_type",
            "location_id",
            "from_id",
            name="uq_supply_purchase_orders_key",
        ),
    )
    op.create_index(
        "ix_supply_purchase_orders_location_type_location_id",
        "supply_purchase_orders",
        ["location_type", "location_id"],
        unique=False,
    )
    op.create_table(
        "supply_purchase_order_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("plan_line_id", _ID, nullable=False),
        sa.Column("material_id", sa.String(length=32), nullable=False),
        sa.Column("packs", sa.Integer(), nullable=False),
        sa.Column("pack_size", sa.BigInteger(), nullable=False),
        sa.Column(
            "quantity", sa.BigInteger(), nullable=False, comment="base units: packs * pack_size"
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pack_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False, comment="packs * pack_cost_minor"),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "packs > 0 AND quantity > 0 AND cost_minor >= 0",
            name=op.f("ck_supply_purchase_order_lines_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["supply_purchase_orders.id"],
            name=op.f("fk_supply_purchase_order_lines_order_id_supply_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_line_id"],
            ["supply_plan_lines.id"],
            name=op.f("fk_supply_purchase_order_lines_plan_line_id_supply_plan_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_purchase_order_lines")),
        sa.UniqueConstraint(
            "plan_line_id", name=op.f("uq_supply_purchase_order_lines_plan_line_id")
        ),
    )
    op.create_index(
        op.f("ix_supply_purchase_order_lines_order_id"),
        "supply_purchase_order_lines",
        ["order_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_supply_purchase_order_lines_order_id"), table_name="supply_purchase_order_lines"
    )
    op.drop_table("supply_purchase_order_lines")
    op.drop_index(
        "ix_supply_purchase_orders_location_type_location_id", table_name="supply_purchase_orders"
    )
    op.drop_table("supply_purchase_orders")
    op.drop_table("supply_plan_lines")
    op.drop_table("supply_plans")
