"""The cache of every record version's identifiers: a run reads only ODS files that are new or were
replaced, and the result is always what reading every file would give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newretail.identity import versions
from newretail.identity.rules import IdentityRules
from newretail.identity.versions import read_version_files, version_identifiers
from newretail.lake import Lake

RULES = IdentityRules()


def _rows(ids: list[str], phone: str) -> pa.Table:
    return pa.table(
        {
            "source_record_id": ids,
            "phone_hash": [f"{phone}-{i}" for i in ids],
            "email_hash": pa.nulls(len(ids), pa.string()),
            "wechat_unionid": pa.nulls(len(ids), pa.string()),
        }
    )


def _write(lake: Lake, day: int, table: pa.Table) -> None:
    partition = {"source": "app", "business_date": dt.date(2026, 1, day)}
    lake.write_partition("ods", "identity_records", partition, table)


def _sorted(table: pa.Table) -> list[dict[str, object]]:
    return sorted(
        table.to_pylist(), key=lambda r: (str(r["source_record_id"]), str(r["phone_hash"]))
    )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    _write(lake, 1, _rows(["a", "b"], "old"))
    _write(lake, 2, _rows(["c"], "old"))
    return lake


def test_the_cache_gives_what_reading_every_file_gives(lake: Lake, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = pq.read_table(version_identifiers(lake, cache, RULES)).drop_columns(["file"])
    everything = read_version_files(lake.files("ods", "identity_records"), RULES)
    assert _sorted(first) == _sorted(everything)
    assert {r["source"] for r in first.to_pylist()} == {"app"}
    # A replaced partition and a new one: their rows change, the rest stays.
    _write(lake, 2, _rows(["c", "d"], "new"))
    _write(lake, 3, _rows(["e"], "new"))
    second = pq.read_table(version_identifiers(lake, cache, RULES)).drop_columns(["file"])
    everything = read_version_files(lake.files("ods", "identity_records"), RULES)
    assert _sorted(second) == _sorted(everything)
    assert {r["phone_hash"] for r in second.to_pylist()} == {
        "old-a",
        "old-b",
        "new-c",
        "new-d",
        "new-e",
    }


def test_only_new_or_replaced_files_are_read(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    version_identifiers(lake, cache, RULES)
    read: list[list[str]] = []
    real = versions._read_files

    def spy(files: dict[str, int], columns: list[str]) -> pa.Table:
        read.append(list(files))
        return real(files, columns)

    monkeypatch.setattr(versions, "_read_files", spy)
    version_identifiers(lake, cache, RULES)
    assert read == []
    _write(lake, 3, _rows(["e"], "new"))
    version_identifiers(lake, cache, RULES)
    assert len(read) == 1 and len(read[0]) == 1 and "2026-01-03" in read[0][0]


def test_a_removed_partition_takes_its_rows_along(lake: Lake, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    version_identifiers(lake, cache, RULES)
    lake.delete_partition(
        "ods", "identity_records", {"source": "app", "business_date": dt.date(2026, 1, 1)}
    )
    left = pq.read_table(version_identifiers(lake, cache, RULES))
    assert left["source_record_id"].to_pylist() == ["c"]


def test_an_unreadable_cache_is_rebuilt(lake: Lake, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    version_identifiers(lake, cache, RULES)
    (cache / "versions.parquet").write_bytes(b"not parquet")
    assert pq.read_table(version_identifiers(lake, cache, RULES)).num_rows == 3
