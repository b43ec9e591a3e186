"""The demo: a generated chain, ingested, built, resolved to persons (OneID) and tagged (tag snapshots
for audiences), forecast and planned (tomorrow's orders, alerts, a policy simulation), a migrated database with a demo admin and an ``app`` write key, so ``make demo`` ends with something to log into and send events to.

The demo admin's password and the write key are kept in NEWRETAIL_HOME/demo-credentials.json
(mode 0600) so that running the demo again prints the same login; nothing outside the demo does this.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from newretail.audience.refresh import NightlyReport, refresh_everything
from newretail.config import Settings
from newretail.identity.batch import RunReport, resolve_identities
from newretail.identity.rules import load_rules
from newretail.ingest import IngestReport, ingest
from newretail.lake import BuildReport, Lake, build
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.oltp import engine_from_settings, upgrade
from newretail.progress import Progress
from newretail.security import (
    Principal,
    create_user,
    create_user_key,
    create_write_key,
    generate_password,
)
from newretail.security.pii import PiiProtector
from newretail.sim import SimConfig, generate
from newretail.supply.nightly import NightlyResult as SupplyNightly
from newretail.supply.nightly import run_nightly
from newretail.trade.catalogue import sync_catalogue

DEMO_EMAIL = "admin@demo.newretail"
DEMO_CHANNEL_EMAIL = "checkout@demo.newretail"
DEMO_START = dt.date(2026, 1, 1)
DEMO_SEED = 7


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    write_key: str
    # The API key of a `channel` service user: what a till or the app's backend checks out with.
    channel_key: str


@dataclass(frozen=True)
class DemoResult:
    generated: bool
    ingested: IngestReport
    built: BuildReport
    identity: RunReport
    tags: NightlyReport
    credentials: DemoCredentials
    supply: SupplyNightly


def prepare_demo(
    settings: Settings,
    *,
    members: int,
    stores: int,
    days: int,
    now: dt.datetime,
    progress: Progress,
) -> DemoResult:
    """Generate the demo chain once, ingest and build it, and make sure the demo login exists."""
    chain = settings.home / "demo-chain"
    generated = not (chain / "manifest.json").exists()
    if generated:
        config = SimConfig(
            members=members, stores=stores, days=days, seed=DEMO_SEED, start=DEMO_START
        )
        generate(config, out=chain, progress=progress)
    lake = Lake(settings.lake_dir)
    ingested = ingest(chain / "sources", lake=lake, settings=settings, progress=progress)
    built = build(lake=lake, engine=settings.engine, progress=progress)
    credentials = _credentials(settings, now=now)
    engine = engine_from_settings(settings)
    try:
        identity = resolve_identities(
            lake,
            engine,
            rules=load_rules(settings.home / "identity.json"),
            model_file=settings.home / "identity" / "model.json",
            now=now,
            progress=progress,
        )
        tags = refresh_everything(settings, engine, as_of=None, progress=progress, now=now)
        with engine.begin() as conn:
            # Checkout prices from the lake's newest menu; the schemes and coupon templates are
            # the ones a coffee chain would start with.
            sync_catalogue(conn, lake, now=now)
            ensure_demo_templates(conn, now=now)
            ensure_demo_schemes(conn, now=now)
        # Tomorrow's orders, alerts and the policy comparison a planner opens the console to.
        supply = run_nightly(
            lake,
            engine,
            engine=settings.engine,
            now=now,
            protector=PiiProtector.from_settings(settings),
            truth_dir=chain / "truth",
            progress=progress,
        )
    finally:
        engine.dispose()
    return DemoResult(generated, ingested, built, identity, tags, credentials, supply)


def _credentials(settings: Settings, *, now: dt.datetime) -> DemoCredentials:
    path = settings.home / "demo-credentials.json"
    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        stored = json.loads(path.read_text()) if path.exists() else {}
        if "channel_key" in stored:
            return DemoCredentials(**stored)
        actor = Principal.cli()
        with engine.begin() as conn:
            if not stored:
                password = generate_password()
                create_user(
                    conn, actor=actor, email=DEMO_EMAIL, role="admin", password=password, now=now
                )
                key = create_write_key(conn, actor=actor, source="app", now=now)
                stored = {"email": DEMO_EMAIL, "password": password, "write_key": key.key}
            # A home made before checkout existed gains the channel login here.
            create_user(
                conn,
                actor=actor,
                email=DEMO_CHANNEL_EMAIL,
                role="channel",
                password=generate_password(),
                now=now,
            )
            channel = create_user_key(conn, actor=actor, email=DEMO_CHANNEL_EMAIL, now=now)
            credentials = DemoCredentials(**stored, channel_key=channel.key)
            _write_private(path, json.dumps(credentials.__dict__))
        return credentials
    finally:
        engine.dispose()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, replacing the file atomically."""
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    partial.replace(path)
