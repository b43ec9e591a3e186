"""Saved audiences on SQLite and PostgreSQL: size history written once per snapshot version, the
live cap, snapshots that keep their members and lose erased persons, archive."""

from __future__ import annotations

import datetime as dt

import pytest
from pyroaring import BitMap
from sqlalchemy import Engine, delete
from tests.integration.databases import database_url, migrated_engine  # noqa: F401

from newretail.audience import saved
from newretail.errors import Conflict, NotFound
from newretail.oltp.tables import audiences

NOW = dt.datetime(2026, 6, 30, 2, 0, tzinfo=dt.UTC)
DRAFT = saved.AudienceDraft(
    name="lapsing coffee lovers",
    description="",
    entity="person",
    expression={"tag": "lifecycle_stage", "op": "=", "value": "lapsing"},
    expression_text="lifecycle_stage = 'lapsing'",
)


@pytest.fixture(autouse=True)
def _empty(migrated_engine: Engine) -> None:  # noqa: F811
    with migrated_engine.begin() as conn:
        conn.execute(delete(audiences))


def test_size_history_has_one_point_per_snapshot_version(migrated_engine: Engine) -> None:  # noqa: F811
    with migrated_engine.begin() as conn:
        audience = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        assert audience.size is None
        day = dt.date(2026, 6, 29)
        assert saved.record_sizes(conn, {audience.id: 120}, index_version=1, as_of=day, now=NOW)
        # The same refresh run again (a retry) keeps the first count.
        assert not saved.record_sizes(conn, {audience.id: 999}, index_version=1, as_of=day, now=NOW)
        saved.record_sizes(
            conn, {audience.id: 95}, index_version=2, as_of=day + dt.timedelta(1), now=NOW
        )
        history = saved.size_history(conn, audience.id)
        latest = saved.get_audience(conn, audience.id)
    assert [(p.index_version, p.size) for p in history] == [(1, 120), (2, 95)]
    assert (latest.size, latest.index_version, latest.as_of) == (95, 2, "2026-06-30")


def test_archived_audiences_leave_the_live_list(migrated_engine: Engine) -> None:  # noqa: F811
    with migrated_engine.begin() as conn:
        kept = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        gone = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        saved.archive_audience(conn, gone.id, now=NOW)
        saved.archive_audience(conn, gone.id, now=NOW + dt.timedelta(hours=1))
        live = [a.id for a in saved.live_audiences(conn)]
        everything = [a.id for a in saved.list_audiences(conn, archived=True)]
        archived_at = saved.get_audience(conn, gone.id).archived_at
    assert live == [kept.id]
    assert sorted(everything) == sorted([kept.id, gone.id])
    assert archived_at == NOW


def test_live_audiences_are_capped(
    migrated_engine: Engine,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(saved, "MAX_LIVE_AUDIENCES", 3)
    with migrated_engine.begin() as conn:
        first = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        for _ in range(2):
            saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        with pytest.raises(Conflict) as refused:
            saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        assert refused.value.code == "audience.limit_reached"
        saved.archive_audience(conn, first.id, now=NOW)
        saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)


def test_snapshots_keep_members_and_lose_erased_persons(migrated_engine: Engine) -> None:  # noqa: F811
    members = BitMap(range(0, 300_000, 3))
    with migrated_engine.begin() as conn:
        audience = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        snapshot = saved.save_snapshot(
            conn,
            audience.id,
            label="spring win-back",
            members=members,
            index_version=4,
            as_of=dt.date(2026, 6, 29),
            created_by="user:1",
            now=NOW,
        )
        other = saved.save_snapshot(
            conn,
            audience.id,
            label="no overlap",
            members=BitMap([1, 2]),
            index_version=4,
            as_of=dt.date(2026, 6, 29),
            created_by="user:1",
            now=NOW,
        )
        assert snapshot.size == len(members)
        assert saved.snapshot_members(conn, snapshot.id) == members
        assert saved.erase_from_snapshots(conn, [3, 6, 7]) == 1
        after = saved.snapshot_members(conn, snapshot.id)
        listed = {s.id: s.size for s in saved.list_snapshots(conn, audience.id)}
    assert after == members - BitMap([3, 6])
    assert listed == {snapshot.id: len(members) - 2, other.id: 2}


def test_unknown_ids_are_not_found(migrated_engine: Engine) -> None:  # noqa: F811
    with migrated_engine.begin() as conn:
        for call in (
            lambda: saved.get_audience(conn, "aud_missing"),
            lambda: saved.size_history(conn, "aud_missing"),
            lambda: saved.snapshot_members(conn, "snap_missing"),
        ):
            with pytest.raises(NotFound):
                call()


def test_size_histories_of_many_audiences_in_one_read(migrated_engine: Engine) -> None:  # noqa: F811
    with migrated_engine.begin() as conn:
        first = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        second = saved.create_audience(conn, DRAFT, created_by="user:1", now=NOW)
        day = dt.date(2026, 6, 29)
        for version in range(1, 5):
            saved.record_sizes(
                conn, {first.id: 10 * version}, index_version=version, as_of=day, now=NOW
            )
        histories = saved.size_histories(conn, [first.id, second.id], last=3)
        one_by_one = saved.size_history(conn, first.id)
    assert [p.size for p in histories[first.id]] == [20, 30, 40]
    assert histories[first.id] == one_by_one[-3:]
    assert histories[second.id] == []
