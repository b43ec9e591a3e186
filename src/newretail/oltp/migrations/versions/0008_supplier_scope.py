"""The supplier a supplier's user acts for: one nullable column on users (null for staff roles).

Revision ID: 0008_supplier_scope
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_supplier_scope"
down_revision: str | None = "0007_supply_alerts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "supplier_id",
            sa.String(length=64),
            nullable=True,
            comment="the supplier a supplier's user acts for",
        ),
    )


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table, which batch mode does.
    with op.batch_alter_table("users") as batch:
        batch.drop_column("supplier_id")
