"""A minimal app the way ``create_app`` builds it: settings, a migrated SQLite OLTP engine and the lake
on ``app.state``, the console router and its static files mounted, the clock pinned."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from newretail.config import Settings
from newretail.lake import Lake
from newretail.oltp import make_engine, upgrade
from newretail.security import Principal, create_user
from newretail.web import mount_static, router
from newretail.web.deps import get_now

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)


@pytest.fixture
def oltp(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'oltp.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def app(settings: Settings, oltp: Engine, lake: Lake) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.engine = oltp
    app.state.lake = lake
    app.include_router(router)
    mount_static(app)
    app.dependency_overrides[get_now] = lambda: NOW
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def add_user(oltp: Engine, email: str, role: str, stores: tuple[str, ...] = ()) -> None:
    with oltp.begin() as conn:
        create_user(
            conn,
            actor=Principal.cli(),
            email=email,
            role=role,
            stores=stores,
            password=PASSWORD,
            now=NOW,
        )


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token from the first page the user
    lands on (the overview, or the first area a role without it may open)."""
    token = form_token(client.get("/console/login").text)
    answer = client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return form_token(client.get("/console/", follow_redirects=True).text)
