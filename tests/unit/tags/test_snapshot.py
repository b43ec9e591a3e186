"""Snapshots: a loaded index answers as the built one did; publishing is all or nothing; old versions go."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap
from tests.unit.tags.index_tables import AS_OF, OPS, SPECS, VALUES, prepared, tables

from newretail.errors import NotFound
from newretail.tags import snapshot
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex
from newretail.tags.snapshot import (
    SnapshotNotFound,
    current_version,
    load_snapshot,
    write_snapshot,
)


def _built(rows: int = 30, *, seed: int = 0) -> tuple[TagIndex, DenseIds]:
    table = pa.table(
        {
            "person_id": [f"p{(i * 7 + seed) % rows}" for i in range(rows)],
            "vip": [None if i % 5 == 0 else i % 2 == 0 for i in range(rows)],
            "tier": [["gold", "silver", "tin", None][i % 4] for i in range(rows)],
            "spend": [None if i % 6 == 0 else (i - 10) * 1000 for i in range(rows)],
            "last_order": [dt.date(2025, 1, 1) + dt.timedelta(days=i * 3) for i in range(rows)],
        }
    )
    dense = DenseIds.empty()
    return TagIndex.build(table, SPECS, entity="person", as_of=AS_OF, dense=dense), dense


def _same_answers(built: TagIndex, loaded: TagIndex, probes: dict[str, list[object]]) -> None:
    assert loaded.universe() == built.universe()
    assert (loaded.as_of, loaded.row_count, loaded.tag_ids) == (
        built.as_of,
        built.row_count,
        built.tag_ids,
    )
    for tag_id in built.tag_ids:
        assert loaded.spec(tag_id) == built.spec(tag_id)
        assert loaded.present(tag_id) == built.present(tag_id)
        assert loaded.distribution(tag_id) == built.distribution(tag_id)
        assert loaded.coverage(tag_id) == built.coverage(tag_id)
        ordered = built.spec(tag_id).value_type in ("number", "date")
        values = probes[tag_id]
        for value in values:
            for op in OPS if ordered else ("=", "!="):
                assert loaded.compare(tag_id, op, value) == built.compare(tag_id, op, value)  # type: ignore[arg-type]
        assert loaded.one_of(tag_id, values) == built.one_of(tag_id, values)  # type: ignore[arg-type]
        if ordered and len(values) > 1:
            low, high = values[0], values[1]
            assert loaded.between(tag_id, low, high) == built.between(tag_id, low, high)  # type: ignore[arg-type]
    assert loaded.keys(loaded.universe()) == built.keys(built.universe())


@given(table=tables(max_rows=25), data=st.data())
@settings(max_examples=25, deadline=None)
def test_a_loaded_snapshot_answers_as_the_built_index(
    tmp_path_factory: pytest.TempPathFactory, table: pa.Table, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("tags")
    built, _, dense = prepared(table, [])
    version = write_snapshot(root, built, dense=dense)
    assert version == 1 and built.version == 1
    loaded = load_snapshot(root, "person")
    assert loaded.version == 1
    probes = {
        spec.id: [
            *table.column(spec.id).drop_null().to_pylist()[:3],
            *data.draw(st.lists(VALUES[spec.value_type], min_size=1, max_size=2)),
        ]
        for spec in SPECS
    }
    _same_answers(built, loaded, probes)


def test_layout_manifest_and_versions(tmp_path: Path) -> None:
    built, dense = _built()
    assert current_version(tmp_path, "person") is None
    assert write_snapshot(tmp_path, built, dense=dense) == 1
    assert write_snapshot(tmp_path, built, dense=dense) == 2
    home = tmp_path / "person"
    assert (home / "CURRENT").read_text().strip() == "2"
    assert sorted(path.name for path in home.iterdir() if not path.name.startswith(".")) == [
        "CURRENT",
        "dense_ids.parquet",
        "v000001",
        "v000002",
    ]
    manifest = json.loads((home / "v000002" / "manifest.json").read_text())
    assert (manifest["format"], manifest["entity"], manifest["row_count"]) == (1, "person", 30)
    assert manifest["as_of"] == AS_OF.isoformat()
    assert manifest["data_bytes"] == (home / "v000002" / "bitmaps.bin").stat().st_size
    spend = next(tag for tag in manifest["tags"] if tag["spec"]["id"] == "spend")
    assert spend["kind"] == "bsi"
    assert spend["bsi"]["slice_count"] == len(spend["bsi"]["slices"]) > 0
    assert spend["distribution"]["min"] == -9000
    assert load_snapshot(tmp_path, "person", 1).version == 1


def test_missing_snapshots_raise_not_found(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound) as raised:
        load_snapshot(tmp_path, "store")
    assert isinstance(raised.value, NotFound)
    assert raised.value.code == "tags.snapshot_missing"
    built, dense = _built()
    write_snapshot(tmp_path, built, dense=dense)
    with pytest.raises(SnapshotNotFound):
        load_snapshot(tmp_path, "person", 9)


def test_a_failed_write_leaves_the_previous_version_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, dense = _built()
    write_snapshot(tmp_path, built, dense=dense)
    written: list[Path] = []
    real = snapshot._write_bitmaps

    def then_fail(path: Path, index: TagIndex) -> tuple[list[dict[str, int]], int]:
        answer = real(path, index)
        written.append(path)
        return answer

    def broken(path: Path, manifest: dict[str, object]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "_write_bitmaps", then_fail)
    monkeypatch.setattr(snapshot, "_write_manifest", broken)
    other, _ = _built(seed=3)
    with pytest.raises(OSError, match="disk full"):
        write_snapshot(tmp_path, other, dense=dense)
    assert written  # the failure came after the data file was written
    home = tmp_path / "person"
    assert current_version(tmp_path, "person") == 1
    assert sorted(path.name for path in home.iterdir() if path.is_dir()) == ["v000001"]
    assert not list(home.glob(".tmp-*"))
    assert other.version is None
    monkeypatch.undo()
    assert write_snapshot(tmp_path, other, dense=dense) == 2


def test_pruning_keeps_three_and_a_reader_keeps_its_version(tmp_path: Path) -> None:
    built, dense = _built()
    write_snapshot(tmp_path, built, dense=dense)
    reader = load_snapshot(tmp_path, "person")  # nothing deserialized yet
    (tmp_path / "person" / ".tmp-left-by-a-killed-writer").mkdir()
    for _ in range(4):
        write_snapshot(tmp_path, built, dense=dense)
    home = tmp_path / "person"
    assert sorted(path.name for path in home.iterdir() if path.is_dir()) == [
        "v000003",
        "v000004",
        "v000005",
    ]
    # v1's files are gone from the directory but stay mapped in the reader.
    assert reader.version == 1
    assert reader.compare("spend", ">=", 0) == built.compare("spend", ">=", 0)
    assert reader.compare("tier", "=", "gold") == built.compare("tier", "=", "gold")


def test_keys_of_a_snapshot_leave_out_forgotten_persons(tmp_path: Path) -> None:
    built, dense = _built(rows=4)
    write_snapshot(tmp_path, built, dense=dense)
    dense.forget(pa.array(["p0"]))
    dense.save(tmp_path / "person" / "dense_ids.parquet")
    loaded = load_snapshot(tmp_path, "person")
    # Rows p0, p3, p2, p1 got ids 0..3; keys come in id order.
    assert loaded.keys(loaded.universe()) == ["p3", "p2", "p1"]
    assert built.keys(BitMap([0, 1])) == ["p3"]  # the built index shares the live mapping


def test_dense_ids_must_cover_the_index(tmp_path: Path) -> None:
    built, _ = _built()
    with pytest.raises(ValueError, match="do not cover"):
        write_snapshot(tmp_path, built, dense=DenseIds.empty())
