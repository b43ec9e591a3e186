"""The transactional store: SQLAlchemy Core tables on SQLite (embedded) or PostgreSQL, Alembic migrations."""

from __future__ import annotations

from newretail.oltp.engine import database_url, engine_from_settings, make_engine
from newretail.oltp.migrate import DatabaseNotReady, check_current, head_revision, upgrade

__all__ = [
    "DatabaseNotReady",
    "check_current",
    "database_url",
    "engine_from_settings",
    "head_revision",
    "make_engine",
    "upgrade",
]
