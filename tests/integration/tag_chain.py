"""A generated chain for the tag tests: generated, ingested, built and resolved by OneID into a home.

200 days, so every lifecycle stage the generator knows has members (new, active, lapsing, churned)
and the 90-day windows are full. Building it takes about 30 seconds; test modules do it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from newretail.config import Settings
from newretail.identity.batch import resolve_identities
from newretail.identity.rules import IdentityRules
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.oltp import make_engine, upgrade
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
CONFIG = SimConfig(members=2000, stores=12, days=200, seed=7)


@dataclass(frozen=True)
class TagChain:
    home: Path
    lake: Lake
    truth: Path


def build_tag_chain(tmp: Path) -> TagChain:
    """Generate, ingest, build and resolve a chain under ``tmp``."""
    generate(CONFIG, out=tmp / "chain", progress=SilentProgress())
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    oltp = make_engine(f"sqlite+pysqlite:///{tmp / 'oltp.sqlite3'}")
    upgrade(oltp)
    resolve_identities(
        lake, oltp, rules=IdentityRules(), model_file=tmp / "model.json", now=NOW, full=True
    )
    oltp.dispose()
    return TagChain(settings.home, lake, tmp / "chain" / "truth")


def with_truth(chain: TagChain, tags: pa.Table) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding ``m``: each resolved person's tags beside the latent traits of
    the true person most of their identity records belong to (by the generator's identity map)."""
    links = chain.lake.files("dwd", "person_links")
    truth = chain.truth
    con = duckdb.connect()
    con.register("tags", tags)
    con.sql(
        f"""
        CREATE TABLE m AS
        WITH links AS (SELECT * FROM read_parquet({[str(f) for f in links]})),
        imap AS (
            SELECT DISTINCT source, source_record_id, person_id AS true_id
            FROM read_parquet('{truth / "identity_map.parquet"}')),
        votes AS (
            SELECT l.person_id, i.true_id, count(*) AS n
            FROM links l JOIN imap i USING (source, source_record_id) GROUP BY ALL),
        best AS (
            SELECT person_id, arg_max(true_id, n) AS true_id
            FROM votes GROUP BY person_id)
        SELECT t.*, p.daypart AS true_daypart, p.favourite_category AS true_category,
               p.final_lifecycle AS true_lifecycle, p.home_store_id AS true_home_store
        FROM tags t JOIN best b USING (person_id)
        JOIN read_parquet('{truth / "persons.parquet"}') p ON p.person_id = b.true_id
        """
    )
    return con
