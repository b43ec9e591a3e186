"""The app factory, and the fixtures the other API test modules import: an app over each database.

``from tests.integration.test_api_app import Api, api as api`` (with ``database_url`` and
``migrated_engine`` from ``tests.integration.databases``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.api import create_app
from newretail.api.runtime import Runtime
from newretail.config import Settings
from newretail.errors import NewRetailError
from newretail.oltp import make_engine
from newretail.oltp.tables import audit_log
from newretail.security import Principal, create_user, create_user_key, create_write_key

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Api:
    """A running app (lifespan entered) on one database, with an admin's bearer key."""

    client: TestClient
    engine: Engine
    settings: Settings
    admin: dict[str, str]

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def user(self, role: str, stores: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
        """A new user of ``role`` and the bearer headers of a key acting as it."""
        email = f"{role}-{secrets.token_hex(4)}@example.com"
        with self.engine.begin() as conn:
            create_user(
                conn,
                actor=Principal.cli(),
                email=email,
                role=role,
                stores=stores,
                password=secrets.token_urlsafe(16),
                now=NOW,
            )
            key = create_user_key(conn, actor=Principal.cli(), email=email, now=NOW)
        return email, {"Authorization": f"Bearer {key.key}"}

    def write_key(self, source: str = "app") -> tuple[str, str]:
        """HTTP Basic credentials for a new write key of ``source``."""
        with self.engine.begin() as conn:
            key = create_write_key(conn, actor=Principal.cli(), source=source, now=NOW)
        return key.key, ""

    def audit_count(self, action: str) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
            return int(conn.execute(query).scalar_one())


def api_settings(home: Path, url: str, **extra: object) -> Settings:
    return Settings(home=home, database_url=SecretStr(url), **extra)  # type: ignore[arg-type]


@pytest.fixture
def api(migrated_engine: Engine, database_url: str, isolated_home: Path) -> Iterator[Api]:
    settings = api_settings(isolated_home, database_url)
    app = create_app(settings, flush_in_background=False)
    with TestClient(app) as client:
        harness = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, harness.admin = harness.user("admin")
        yield harness


def test_health_needs_no_key_and_docs_are_served(api: Api) -> None:
    assert api.client.get("/health").json()["status"] == "ok"
    assert api.client.get("/docs").status_code == 200
    spec = api.client.get("/openapi.json").json()
    assert {"/v1/batch", "/api/v1/users", "/api/v1/keys", "/api/v1/audit"} <= set(spec["paths"])


def test_startup_refuses_an_unmigrated_database(isolated_home: Path) -> None:
    url = f"sqlite+pysqlite:///{isolated_home / 'empty.sqlite3'}"
    isolated_home.mkdir(parents=True, exist_ok=True)
    make_engine(url).dispose()
    app = create_app(api_settings(isolated_home, url), flush_in_background=False)
    with pytest.raises(NewRetailError) as raised, TestClient(app):
        pass
    assert raised.value.code == "oltp.not_migrated"
    assert "newretail db upgrade" in raised.value.message
