"""Schema upgrades with Alembic run in-process (no alembic.ini), and the check the service starts with."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from newretail.errors import NewRetailError

_SCRIPT_LOCATION = "newretail.oltp:migrations"
# Any fixed number: it names the lock that serialises concurrent upgrades of one PostgreSQL database.
_UPGRADE_LOCK = 730_119_580


class DatabaseNotReady(NewRetailError):
    """The OLTP database is unreachable or its schema is not the one this version expects."""

    http_status = 503


def head_revision() -> str:
    """The revision this version of newretail needs."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction; running it twice changes nothing."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes upgrading at once: the second waits, then finds nothing left to do.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        command.upgrade(_config(conn), revision)


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database, None when it was never migrated."""
    return MigrationContext.configure(conn).get_current_revision()


def check_current(engine: Engine) -> None:
    """Raise :class:`DatabaseNotReady` unless the database is reachable and at the head revision."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise DatabaseNotReady(
            "oltp.unreachable", f"cannot open the database {where}: {reason}"
        ) from None
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise DatabaseNotReady(
            "oltp.not_migrated", f"the database {where} has no schema; run `newretail db upgrade`"
        )
    if _is_known(current):
        raise DatabaseNotReady(
            "oltp.behind",
            f"the database {where} is at revision {current}, this version needs {head};"
            " run `newretail db upgrade`",
        )
    raise DatabaseNotReady(
        "oltp.unknown_revision",
        f"the database {where} is at revision {current}, which this version does not know"
        " (was it migrated by a newer newretail?)",
    )


def _is_known(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(_config())
    return any(script.revision == revision for script in scripts.walk_revisions())


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config
