"""Users, store scopes, API keys, console sessions, the append-only audit log, idempotency keys.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_APPEND_ONLY = [
    f"""CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_POSTGRESQL_APPEND_ONLY = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, comment="lower-cased"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column(
            "password_hash", sa.String(200), nullable=False, comment="scrypt$n$r$p$salt$hash"
        ),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "user_stores",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "store_id", name="pk_user_stores"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_user_stores_user_id_users"
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prefix", sa.String(16), nullable=False, comment="public; identifies the key"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column(
            "secret_hash", sa.String(64), nullable=False, comment="SHA-256 hex of the whole key"
        ),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=True),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.Column("last_used_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_api_keys_user_id_users"
        ),
        sa.CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL AND source IS NULL)"
            " OR (kind = 'write' AND user_id IS NULL AND source IS NOT NULL)",
            name="ck_api_keys_kind_owner",
        ),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("last_seen_at", _UTC, nullable=False),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_sessions_user_id_users"
        ),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column(
            "actor",
            sa.String(64),
            nullable=False,
            comment="user:<id>, source:<name>, cli, anonymous",
        ),
        sa.Column(
            "actor_user_id",
            sa.Integer,
            nullable=True,
            comment="no foreign key: entries outlive users",
        ),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(128), nullable=True),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    statements = (
        _POSTGRESQL_APPEND_ONLY
        if op.get_bind().dialect.name == "postgresql"
        else _SQLITE_APPEND_ONLY
    )
    for statement in statements:
        op.execute(statement)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False, comment="the principal's actor label"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("completed_at", _UTC, nullable=True),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    for table in ("idempotency_keys", "audit_log", "sessions", "api_keys", "user_stores", "users"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
