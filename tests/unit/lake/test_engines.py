"""The engine interface: choosing an engine, reading lake files, typed errors."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest
from tests.unit.lake.ods_fixture import D1, arrow, ts

from newretail.errors import InvalidInput, NewRetailError
from newretail.lake import EngineError, Lake, connect_engine
from newretail.model import dwd


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        connect_engine("oracle")
    assert caught.value.code == "lake.unknown_engine"


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    engine = connect_engine("spark")
    with pytest.raises(NewRetailError) as caught:
        engine.backend  # noqa: B018
    assert caught.value.code == "lake.spark_missing"
    assert "newretail[spark]" in caught.value.message


def test_read_types_partition_columns_from_the_spec(tmp_path: object) -> None:
    lake = Lake(tmp_path / "lake")  # type: ignore[operator]
    spec = dwd.table("footfall")
    row = {
        "source": "footfall",
        "store_id": "S1",
        "hour_start": ts(D1, "08:00:00"),
        "visitors": 3,
        "business_hour": 8,
        "business_date": D1,
    }
    lake.write_partition("dwd", "footfall", {"business_date": D1}, arrow(spec, [row]))
    with connect_engine("duckdb", threads=1) as engine:
        table = engine.read(
            lake.files("dwd", "footfall"),
            base=lake.table_dir("dwd", "footfall"),
            schema=spec.schema,
        )
        out = engine.execute(table, schema=spec.schema, label="read")
    assert out.schema == spec.schema
    assert out.column("business_date").to_pylist() == [D1]


def test_empty_input_reads_as_an_empty_table() -> None:
    spec = dwd.table("footfall")
    with connect_engine("duckdb", threads=1) as engine:
        out = engine.execute(
            engine.read([], base=Lake(".").root, schema=spec.schema),
            schema=spec.schema,
            label="empty",
        )
    assert out.num_rows == 0 and out.schema == spec.schema


def test_engine_failures_are_wrapped(tmp_path: object) -> None:
    bad = tmp_path / "x" / "data.parquet"  # type: ignore[operator]
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"garbage")
    schema = pa.schema([pa.field("a", pa.int64())])
    with connect_engine("duckdb", threads=1) as engine, pytest.raises(EngineError) as caught:
        engine.execute(
            engine.read([bad], base=bad.parent, schema=schema), schema=schema, label="bad"
        )
    assert caught.value.code == "lake.engine_error"
