"""Shared fixtures: every test gets its own NEWRETAIL_HOME so nothing leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newretail.config import Settings, get_settings


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("NEWRETAIL_HOME", str(home))
    monkeypatch.delenv("NEWRETAIL_SECRET_KEY", raising=False)
    monkeypatch.delenv("NEWRETAIL_ENGINE", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return get_settings()
