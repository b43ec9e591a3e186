"""The OLTP tables as SQLAlchemy Core metadata; the migrations in ``migrations/versions`` create them.

A test compares this metadata with the migrated schema, so the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from newretail.oltp.columns import UtcDateTime

# Named constraints: migrations (and batch mode on SQLite) can refer to them by name.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite autoincrements only an INTEGER primary key; PostgreSQL gets a 64-bit one.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True, comment="lower-cased"),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False, comment="scrypt$n$r$p$salt$hash"),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

user_stores = Table(
    "user_stores",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", String(64), primary_key=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True, comment="public; identifies the key"),
    Column("kind", String(8), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("source", String(32), nullable=True),
    Column("secret_hash", String(64), nullable=False, comment="SHA-256 hex of the whole key"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    CheckConstraint(
        "(kind = 'user' AND user_id IS NOT NULL AND source IS NULL)"
        " OR (kind = 'write' AND user_id IS NULL AND source IS NOT NULL)",
        name="kind_owner",
    ),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False, comment="user:<id>, source:<name>, cli, anonymous"),
    Column(
        "actor_user_id", Integer, nullable=True, comment="no foreign key: entries outlive users"
    ),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(128), nullable=True),
    Column("detail", Json, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor_at", "actor", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("owner", String(64), nullable=False, comment="the principal's actor label"),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    # The race guard: of two concurrent claims on one key, only one insert can succeed.
    UniqueConstraint("owner", "key"),
)
