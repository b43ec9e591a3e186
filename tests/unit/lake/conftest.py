"""Fixtures for the lake tests: a fresh ODS with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.lake.ods_fixture import build_ods

from newretail.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    build_ods(lake)
    return lake
