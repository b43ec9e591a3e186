"""The supply console pages' browser tests share this: a ``newretail serve`` over a home prepared with
what the page shows (lake files, rows in the OLTP database) and one signed-up user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection
from tests.e2e.test_api_serve import Server, prepared_home
from tests.unit.web.conftest import add_user

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings


def serving(
    home: Path,
    *,
    email: str,
    role: str,
    stores: tuple[str, ...] = (),
    lake: Callable[[Lake], object] | None = None,
    rows: Callable[[Connection, dt.datetime], object] | None = None,
) -> Iterator[Server]:
    """Prepare ``home`` (lake files by ``lake``, database rows by ``rows``, the user), serve it, and
    stop the server when the test is done."""
    prepared_home(home)
    settings = Settings(home=home)
    if lake is not None:
        lake(Lake(settings.lake_dir))
    database = engine_from_settings(settings)
    if rows is not None:
        with database.begin() as conn:
            rows(conn, dt.datetime.now(dt.UTC))
    add_user(database, email, role, stores)
    database.dispose()
    running = Server(home).start()
    try:
        yield running
    finally:
        running.stop()
