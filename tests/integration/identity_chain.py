"""A small generated chain for the OneID API and console tests: generated, ingested and built into a
home (its lake, and the secret key its phones and e-mails were hashed with), then resolved into an
OLTP database. Building takes about 20 seconds, so test modules do it once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
from sqlalchemy import Engine, select

from newretail.config import Settings
from newretail.identity.batch import resolve_identities
from newretail.identity.rules import IdentityRules
from newretail.ingest import ingest
from newretail.lake import Lake, build
from newretail.oltp.tables import identity_links
from newretail.progress import SilentProgress
from newretail.security.pii import PiiProtector
from newretail.sim import SimConfig, generate

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


def build_chain(tmp: Path) -> Path:
    """Generate, ingest and build a chain under ``tmp``; the home they used."""
    generate(
        SimConfig(members=800, stores=5, days=30, seed=4),
        out=tmp / "chain",
        progress=SilentProgress(),
    )
    settings = Settings(home=tmp / "home")
    lake = Lake(settings.lake_dir)
    ingest(tmp / "chain" / "sources", lake=lake, settings=settings, progress=SilentProgress())
    build(lake=lake)
    return settings.home


def resolve(home: Path, engine: Engine, model_file: Path) -> None:
    resolve_identities(
        Lake(home / "lake"),
        engine,
        rules=IdentityRules(),
        model_file=model_file,
        now=NOW,
        full=True,
    )


def records_by_person(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                identity_links.c.person_id,
                identity_links.c.source,
                identity_links.c.source_record_id,
            )
        ).all()
    persons: dict[str, set[tuple[str, str]]] = {}
    for person, source, record in rows:
        persons.setdefault(person, set()).add((source, record))
    return persons


def persons_with_orders(home: Path, engine: Engine) -> Counter[tuple[str, str]]:
    """Orders per (person, store), from the lake's orders and the links."""
    links = {
        record: person
        for person, records in records_by_person(engine).items()
        for record in records
    }
    files = [str(f) for f in Lake(home / "lake").files("dwd", "orders")]
    rows = duckdb.sql(
        f"SELECT identity_source, identity_record_id, store_id FROM read_parquet({files})"
        " WHERE identity_record_id IS NOT NULL"
    ).fetchall()
    return Counter(
        (links[(source, record)], store)
        for source, record, store in rows
        if (source, record) in links
    )


def clear_phones(home: Path, records: set[tuple[str, str]]) -> set[str]:
    """The whole phones of ``records`` in clear (E.164), decrypted from the lake with the home's key
    (a platform that sends only a masked phone has nothing more to hide)."""
    protector = PiiProtector.from_settings(Settings(home=home))
    files = [str(f) for f in Lake(home / "lake").files("dwd", "identity_records")]
    rows = duckdb.sql(
        f"SELECT source, source_record_id, phone_cipher FROM read_parquet({files})"
        " WHERE phone_cipher IS NOT NULL"
    ).fetchall()
    phones = {protector.decrypt(c) for source, record, c in rows if (source, record) in records}
    return {phone for phone in phones if phone.startswith("+")}
