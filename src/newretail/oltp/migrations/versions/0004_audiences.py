"""Tags and audiences: user-defined tags, saved audiences, their size history and frozen snapshots.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tag_definitions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(8), nullable=False, comment="person, store"),
        sa.Column("spec", _JSON, nullable=False, comment="the TagSpec's fields"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tag_definitions"),
        sa.CheckConstraint("entity IN ('person', 'store')", name="ck_tag_definitions_entity"),
    )
    op.create_table(
        "audiences",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("entity", sa.String(8), nullable=False, comment="person, store"),
        sa.Column("expression", _JSON, nullable=False, comment="the expression's JSON tree"),
        sa.Column("expression_text", sa.String(8000), nullable=False, comment="its canonical text"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("archived_at", _UTC, nullable=True, comment="no longer refreshed"),
        sa.PrimaryKeyConstraint("id", name="pk_audiences"),
        sa.CheckConstraint("entity IN ('person', 'store')", name="ck_audiences_entity"),
    )
    op.create_table(
        "audience_sizes",
        sa.Column("audience_id", sa.String(40), nullable=False),
        sa.Column(
            "index_version",
            sa.Integer,
            nullable=False,
            comment="the tag snapshot it was counted on",
        ),
        sa.Column("as_of", sa.String(10), nullable=False, comment="the tags' business date, ISO"),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("computed_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("audience_id", "index_version", name="pk_audience_sizes"),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            ondelete="CASCADE",
            name="fk_audience_sizes_audience_id_audiences",
        ),
    )
    op.create_table(
        "audience_snapshots",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("audience_id", sa.String(40), nullable=False),
        sa.Column(
            "label", sa.String(200), nullable=False, comment="e.g. the campaign it was taken for"
        ),
        sa.Column("index_version", sa.Integer, nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column(
            "members", sa.LargeBinary, nullable=False, comment="roaring bitmap of dense person ids"
        ),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audience_snapshots"),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            ondelete="CASCADE",
            name="fk_audience_snapshots_audience_id_audiences",
        ),
    )
    op.create_index("ix_audience_snapshots_audience_id", "audience_snapshots", ["audience_id"])
    op.create_table(
        "audience_exports",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("audience_id", sa.String(40), nullable=False),
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column(
            "kind", sa.String(16), nullable=False, comment="csv, phone_sha256, device_sha256"
        ),
        sa.Column(
            "consent",
            sa.String(8),
            nullable=False,
            comment="the channel whose consent was required",
        ),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column(
            "excluded", sa.BigInteger, nullable=False, comment="members left out without consent"
        ),
        sa.Column(
            "file_name",
            sa.String(200),
            nullable=False,
            comment="under the home's exports directory",
        ),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audience_exports"),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            ondelete="CASCADE",
            name="fk_audience_exports_audience_id_audiences",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["audience_snapshots.id"],
            ondelete="CASCADE",
            name="fk_audience_exports_snapshot_id_audience_snapshots",
        ),
    )
    op.create_index("ix_audience_exports_audience_id", "audience_exports", ["audience_id"])


def downgrade() -> None:
    op.drop_table("audience_exports")
    op.drop_table("audience_snapshots")
    op.drop_table("audience_sizes")
    op.drop_table("audiences")
    op.drop_table("tag_definitions")
