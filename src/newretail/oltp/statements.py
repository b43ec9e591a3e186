"""The one statement the two dialects spell differently: insert a row unless its unique key exists."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

_INSERTS: Mapping[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def insert_if_absent(
    conn: Connection, table: Table, values: Mapping[str, Any], *, unique: Sequence[str]
) -> bool:
    """Insert ``values`` unless a row with the same ``unique`` columns exists; True if inserted.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent uncommitted insert of the same key and then does
    nothing, so two racing callers never both see True, and no error aborts the caller's transaction.
    """
    statement = (
        _INSERTS[conn.dialect.name](table)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(unique))
        # RETURNING, not rowcount: under the implicit RETURNING SQLAlchemy adds for PostgreSQL the
        # rowcount is -1 (unknown) whether or not a row went in.
        .returning(*table.primary_key.columns)
    )
    return conn.execute(statement).first() is not None
