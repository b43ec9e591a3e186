"""An event's user to a person on SQLite and PostgreSQL: OneID's links, merges followed; and the
snapshot's key map reloaded when a refresh publishes a new version."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Engine, update
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.identity.realtime import resolve
from newretail.oltp.tables import identity_persons
from newretail.security.pii import PiiProtector
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.realtime_people import SnapshotKeys, persons_of_users
from newretail.tags.snapshot import write_snapshot
from newretail.tags.spec import TagSpec

PROTECTOR = PiiProtector(bytes(range(32)))
NOW = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)


def _person(engine: Engine, kind: str, value: str, **extra: str) -> str:
    with engine.begin() as conn:
        found = resolve(
            conn, [{"type": kind, "value": value, **extra}], protector=PROTECTOR, now=NOW
        )
    return found.person_id


def _merge(engine: Engine, retired: str, into: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(identity_persons)
            .where(identity_persons.c.person_id == retired)
            .values(status="retired", retired_into=into)
        )


def test_users_resolve_to_their_live_person(migrated_engine: Engine) -> None:
    tag = secrets.token_hex(4)
    app = _person(migrated_engine, "app_uid", f"U{tag}")
    mini = _person(migrated_engine, "openid", f"o{tag}", app="mini_program")
    first, second, third = (_person(migrated_engine, "app_uid", f"M{tag}{n}") for n in range(3))
    _merge(migrated_engine, first, second)
    _merge(migrated_engine, second, third)  # a chain of merges ends at the live person
    keys = [
        ("app", f"U{tag}"),
        ("mini_program", f"o{tag}"),
        ("app", f"o{tag}"),  # an openid is no app user
        ("app", f"M{tag}0"),
        ("app", "nobody"),
    ]
    with migrated_engine.connect() as conn:
        found = persons_of_users(conn, keys)
        many = persons_of_users(conn, [("app", f"X{n}") for n in range(4_500)] + keys[:1])
    assert found == {
        ("app", f"U{tag}"): app,
        ("mini_program", f"o{tag}"): mini,
        ("app", f"M{tag}0"): third,
    }
    assert many == {("app", f"U{tag}"): app}  # more keys than one statement takes


def _spec() -> TagSpec:
    return TagSpec(
        id="vip",
        name_zh="vip",
        name_en="vip",
        category="value",
        entity="person",
        value_type="bool",
        definition="true",
        description_zh="",
        description_en="",
    )


def test_snapshot_keys_follow_the_published_version(tmp_path: Path) -> None:
    keys = SnapshotKeys(tmp_path)
    assert keys.get() is None
    dense = DenseIds.empty()
    for persons in (["p1", "p2"], ["p1", "p2", "p3"]):
        table = pa.table({"person_id": persons, "vip": [True] * len(persons)})
        index = TagIndex.build(
            table, [_spec()], entity="person", as_of=dt.date(2026, 4, 30), dense=dense
        )
        version = write_snapshot(tmp_path, index, dense=dense)
        got = keys.get()
        assert got is not None and keys.version == version
        assert got.lookup(pa.array(["p3", "p2"])).to_pylist() == (
            [None, 1] if version == 1 else [2, 1]
        )
