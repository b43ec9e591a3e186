"""Admin commands (``newretail db|users|keys …``): thin wrappers over the oltp and security services."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import Engine

from newretail.cli.errors import reports_errors
from newretail.config import get_settings
from newretail.errors import InvalidInput
from newretail.oltp import check_current, engine_from_settings, head_revision, upgrade
from newretail.security import (
    Principal,
    create_user,
    create_user_key,
    create_write_key,
    generate_password,
    revoke_key,
)

db_app = typer.Typer(help="The transactional database.", no_args_is_help=True)
users_app = typer.Typer(help="Console users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys and source write keys.", no_args_is_help=True)


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to this version's revision (safe to run again)."""
    engine = engine_from_settings(get_settings())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"database at revision {head_revision()}")


@users_app.command("create")
@reports_errors
def users_create(
    email: Annotated[str, typer.Option("--email", help="The user's e-mail address.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin, analyst, marketer, supply_planner, store_manager, service_agent,"
            " channel or supplier.",
        ),
    ],
    store: Annotated[
        list[str] | None,
        typer.Option("--store", help="A store a store_manager may see (repeat for more)."),
    ] = None,
    supplier: Annotated[
        str | None, typer.Option("--supplier", help="The supplier a supplier user acts for.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a console user; without --password-stdin a password is generated and shown once."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    with migrated() as engine, engine.begin() as conn:
        user = create_user(
            conn,
            actor=Principal.cli(),
            email=email,
            role=role,
            stores=store or (),
            supplier_id=supplier,
            password=password,
            now=_now(),
        )
    scope = f", stores {', '.join(user.stores)}" if user.stores else ""
    scope += f", supplier {user.supplier_id}" if user.supplier_id else ""
    typer.echo(f"created user {user.email} (role {user.role}{scope})")
    if not password_stdin:
        typer.echo(f"password (shown once): {password}")


@keys_app.command("create")
@reports_errors
def keys_create(
    user: Annotated[
        str | None, typer.Option("--user", help="E-mail of the user the key acts as.")
    ] = None,
    write_key: Annotated[
        bool, typer.Option("--write-key", help="A source system's event write key.")
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="The source a write key sends for (app…).")
    ] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a user API key (--user) or a write key (--write-key --source); the key is shown once."""
    if write_key == (user is not None) or (source is not None) != write_key:
        raise InvalidInput(
            "cli.bad_key_options", "give either --user EMAIL or --write-key --source SOURCE"
        )
    now = _now()
    expires_at = now + dt.timedelta(days=expires_days) if expires_days else None
    with migrated() as engine, engine.begin() as conn:
        if user is not None:
            new = create_user_key(
                conn, actor=Principal.cli(), email=user, now=now, expires_at=expires_at
            )
        else:
            assert source is not None
            new = create_write_key(
                conn, actor=Principal.cli(), source=source, now=now, expires_at=expires_at
            )
    typer.echo(f"created {new.kind} key {new.prefix}; the key (shown once):")
    typer.echo(new.key)


@keys_app.command("revoke")
@reports_errors
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's public prefix.")],
) -> None:
    """Revoke an API key or write key at once."""
    with migrated() as engine, engine.begin() as conn:
        revoke_key(conn, actor=Principal.cli(), prefix=prefix, now=_now())
    typer.echo(f"revoked key {prefix}")


@contextmanager
def migrated() -> Iterator[Engine]:
    engine = engine_from_settings(get_settings())
    try:
        check_current(engine)
        yield engine
    finally:
        engine.dispose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
