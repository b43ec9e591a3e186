"""A generated chain dense enough to forecast (about 2,000 members per store, so a store sells 100+
units a day), ingested and built into a home whose ``demo-chain/truth`` holds the true demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newretail.config import Settings
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate

CONFIG = SimConfig(members=9_000, stores=4, days=112, seed=11, start=dt.date(2026, 5, 6))
NOW = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SupplyChain:
    home: Path
    lake: Lake
    truth: Path


def build_supply_chain(tmp: Path) -> SupplyChain:
    home = tmp / "home"
    generate(CONFIG, out=home / "demo-chain", progress=SilentProgress())
    settings = Settings(home=home)
    lake = Lake(settings.lake_dir)
    ingest(home / "demo-chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return SupplyChain(home, lake, home / "demo-chain" / "truth")
