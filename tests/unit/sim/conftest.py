"""A small chain generated once per session for the generator's tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate

SMALL = SimConfig(members=1_000, stores=5, days=21, seed=3, start=dt.date(2026, 1, 20))


@pytest.fixture
def small() -> SimConfig:
    return SMALL


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "chain"
    generate(SMALL, out=out, progress=SilentProgress())
    return out
