"""OneID: record-to-person links, persons, demoted identifiers, runs, merge history, constraints,
the review queue and member records that arrive through the API.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "identity_links",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("source_record_id", sa.String(128), primary_key=True),
        sa.Column("person_id", sa.String(24), nullable=False, index=True),
        sa.Column("phone_hash", sa.String(64), nullable=True, index=True),
        sa.Column("email_hash", sa.String(64), nullable=True, index=True),
        sa.Column("wechat_unionid", sa.String(64), nullable=True, index=True),
        sa.Column(
            "reason_kind",
            sa.String(16),
            nullable=False,
            comment="identifier, match, manual, single",
        ),
        sa.Column(
            "reason",
            sa.String(200),
            nullable=False,
            comment="e.g. phone+unionid, or the matched record",
        ),
        sa.Column("match_weight", sa.Float, nullable=True),
        sa.Column(
            "origin", sa.String(8), nullable=False, comment="lake (batch) or api (resolve, import)"
        ),
        sa.Column(
            "run_id",
            sa.Integer,
            nullable=True,
            comment="the batch run that linked it; null for api",
        ),
        sa.Column("linked_at", _UTC, nullable=False),
    )
    op.create_table(
        "identity_persons",
        sa.Column("person_id", sa.String(24), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False, comment="active, provisional, retired"),
        sa.Column(
            "origin",
            sa.String(12),
            nullable=False,
            comment="batch, resolve, import, split, unmerge",
        ),
        sa.Column("retired_into", sa.String(24), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'provisional', 'retired')", name="ck_identity_persons_status"
        ),
    )
    op.create_table(
        "identity_demoted",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False, comment="fanout or conflict"),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "identity_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(12), nullable=False, comment="full or incremental"),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("finished_at", _UTC, nullable=True),
        sa.Column("watermark", _UTC, nullable=True, comment="newest record updated_at included"),
        sa.Column("stats", _JSON, nullable=False),
    )
    op.create_table(
        "identity_events",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="merge, split, unmerge, remerge"),
        sa.Column("actor", sa.String(64), nullable=False, comment="user:<id>, run:<id>, cli"),
        sa.Column(
            "person_id", sa.String(24), nullable=False, index=True, comment="the person kept"
        ),
        sa.Column("other_person_id", sa.String(24), nullable=False, index=True),
        sa.Column("moves", _JSON, nullable=False, comment="[[source, record id, from, to], ...]"),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("undoes", sa.BigInteger, nullable=True),
        sa.Column("undone_by", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "identity_constraints",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("left_records", _JSON, nullable=False, comment="[[source, record id], ...]"),
        sa.Column("right_records", _JSON, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.CheckConstraint("kind IN ('must', 'cannot')", name="ck_identity_constraints_kind"),
    )
    op.create_table(
        "identity_review",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("left_source", sa.String(32), nullable=False),
        sa.Column("left_record_id", sa.String(128), nullable=False),
        sa.Column("right_source", sa.String(32), nullable=False),
        sa.Column("right_record_id", sa.String(128), nullable=False),
        sa.Column("match_probability", sa.Float, nullable=False),
        sa.Column("match_weight", sa.Float, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, comment="open, approved, rejected"),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.UniqueConstraint("left_source", "left_record_id", "right_source", "right_record_id"),
        sa.CheckConstraint(
            "status IN ('open', 'approved', 'rejected')", name="ck_identity_review_status"
        ),
    )
    op.create_index("ix_identity_review_status", "identity_review", ["status", "match_probability"])
    op.create_table(
        "identity_api_records",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("source_record_id", sa.String(128), primary_key=True),
        sa.Column(
            "attributes", _JSON, nullable=False, comment="canonical identity columns, PII protected"
        ),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("identity_api_records")
    op.drop_table("identity_review")
    op.drop_table("identity_constraints")
    op.drop_table("identity_events")
    op.drop_table("identity_runs")
    op.drop_table("identity_demoted")
    op.drop_table("identity_persons")
    op.drop_table("identity_links")
