"""A home ready for audience work: a generated chain (long enough for lifecycle stages), ingested,
built, resolved to persons and its tags refreshed into snapshots, in a migrated SQLite database.
Building takes about 40 seconds, so a session builds it once and tests copy it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from newretail.audience.refresh import refresh_everything
from newretail.config import Settings
from newretail.identity.batch import resolve_identities
from newretail.identity.rules import IdentityRules
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.oltp import engine_from_settings, upgrade
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate

NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)
CHAIN = SimConfig(members=3000, stores=12, days=120, seed=7)


def build_audience_home(home: Path, chain_dir: Path) -> Path:
    """Generate, ingest, build, resolve and tag a chain into ``home``; the home."""
    generate(CHAIN, out=chain_dir, progress=SilentProgress())
    settings = Settings(home=home)
    lake = Lake(settings.lake_dir)
    ingest(chain_dir / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    database = engine_from_settings(settings)
    try:
        upgrade(database)
        resolve_identities(
            lake,
            database,
            rules=IdentityRules(),
            model_file=home / "identity" / "model.json",
            now=NOW,
            full=True,
        )
        refresh_everything(settings, database, as_of=None, progress=SilentProgress(), now=NOW)
    finally:
        database.dispose()
    return home


@pytest.fixture(scope="session")
def audience_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's one built home (do not modify it: copy it with :func:`copy_home`)."""
    root = tmp_path_factory.mktemp("audience")
    return build_audience_home(root / "home", root / "chain")


def copy_home(template: Path, target: Path) -> Path:
    """A private copy of a built home, for a test that changes it."""
    shutil.copytree(template, target, dirs_exist_ok=True)
    return target
