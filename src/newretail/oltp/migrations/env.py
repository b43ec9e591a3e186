"""Alembic environment: migrates the connection that :func:`newretail.oltp.upgrade` passes in.

There is no alembic.ini and no URL here; the caller owns the connection and its transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from newretail.oltp.tables import metadata

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection)
# Batch mode lets later ALTERs work on SQLite, which rebuilds a table to alter it.
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
