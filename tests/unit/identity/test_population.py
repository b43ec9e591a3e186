"""The kept population of linking features: a full run replaces it, incremental runs append, the
newest copy of a record wins, and many appended files fold back into one."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from newretail.identity import population
from newretail.identity.delta import keyed_features
from newretail.identity.features import link_features
from newretail.identity.population import append_population, load_population, save_population


def _records(ids: list[str], names: list[str]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "record_key": list(range(n)),
            "source": ["app"] * n,
            "source_record_id": ids,
            "name": names,
            "gender": ["F"] * n,
            "birthday": pa.nulls(n, pa.date32()),
            "city": ["上海"] * n,
            "address": pa.nulls(n, pa.string()),
            "phone_masked": pa.nulls(n, pa.string()),
        }
    )


def _features(ids: list[str], names: list[str]) -> pa.Table:
    records = _records(ids, names)
    return keyed_features(link_features(records), records)


def _given(table: pa.Table) -> dict[str, str]:
    return dict(
        zip(table["source_record_id"].to_pylist(), table["given_name"].to_pylist(), strict=True)
    )


def test_nothing_is_loaded_before_a_full_run(tmp_path: Path) -> None:
    assert load_population(tmp_path) is None


def test_appended_records_win_and_a_full_run_replaces_them(tmp_path: Path) -> None:
    save_population(tmp_path, _features(["a", "b"], ["王小明", "李华"]))
    loaded = load_population(tmp_path)
    assert loaded is not None
    base, frequencies = loaded
    assert set(frequencies["full_name"].to_pylist()) == {"王 小明", "李 华"}
    append_population(tmp_path, _features(["b", "c"], ["李华华", "张三"]), base)
    loaded = load_population(tmp_path)
    assert loaded is not None
    assert _given(loaded[0]) == {"a": "小明", "b": "华华", "c": "三"}
    save_population(tmp_path, _features(["z"], ["赵四"]))
    loaded = load_population(tmp_path)
    assert loaded is not None and _given(loaded[0]) == {"z": "四"}


def test_many_appended_files_fold_into_one(tmp_path: Path) -> None:
    save_population(tmp_path, _features(["a"], ["王小明"]))
    for i in range(population._MAX_APPENDED + 1):
        loaded = load_population(tmp_path)
        assert loaded is not None
        append_population(tmp_path, _features(["a", f"n{i}"], [f"王小{i}", "张三"]), loaded[0])
    folder = tmp_path / "population"
    assert len(list(folder.glob("appended-*.parquet"))) < population._MAX_APPENDED
    loaded = load_population(tmp_path)
    assert loaded is not None
    given = _given(loaded[0])
    assert given["a"] == f"小{population._MAX_APPENDED}"
    assert len(given) == population._MAX_APPENDED + 2
