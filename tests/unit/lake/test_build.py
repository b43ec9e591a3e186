"""The build as a whole: incremental by partition, idempotent, atomic per partition, recorded."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest
from tests.unit.lake.ods_fixture import D1, D2, D3, ORDERS, arrow, snapshot

from newretail.errors import NoData
from newretail.lake import EngineError, Lake, build, list_runs
from newretail.model import table

OUTPUTS = ("dwd", "dws")


def test_second_build_writes_nothing(lake: Lake) -> None:
    first = build(lake=lake)
    assert first.partitions_written > 0
    before = snapshot(lake, *OUTPUTS)
    second = build(lake=lake)
    assert second.partitions_written == 0 and second.written == {}
    assert snapshot(lake, *OUTPUTS) == before


def test_forced_rebuild_rewrites_identical_bytes(lake: Lake) -> None:
    build(lake=lake)
    before = snapshot(lake, *OUTPUTS)
    report = build(lake=lake, date_from=D1, date_to=D3)
    after = snapshot(lake, *OUTPUTS)
    assert report.written["dws/store_day"] == 2
    assert {k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()}
    # Dated partitions were rewritten (new mtimes); whole tables, unchanged, were not.
    assert (
        after["dwd/orders/business_date=2024-01-01/data.parquet"][0]
        != before["dwd/orders/business_date=2024-01-01/data.parquet"][0]
    )
    assert after["dwd/stores/data.parquet"] == before["dwd/stores/data.parquet"]
    # Rewriting with the same content dirties nothing downstream.
    assert build(lake=lake).partitions_written == 0


def test_rebuilding_one_day_touches_only_that_day(lake: Lake) -> None:
    build(lake=lake)
    before = snapshot(lake, *OUTPUTS)
    build(lake=lake, date_from=D2, date_to=D2)
    after = snapshot(lake, *OUTPUTS)
    changed = {path for path in after if after[path][0] != before[path][0]}
    assert changed and all("business_date=2024-01-02" in path for path in changed)


def test_changed_input_rebuilds_only_its_dates(lake: Lake) -> None:
    build(lake=lake)
    before = snapshot(lake, *OUTPUTS)
    d2_orders = [o for o in ORDERS if o["business_date"] == D2]
    extra = {**d2_orders[0], "order_id": "O4", "paid_minor": 50}
    lake.write_partition(
        "ods",
        "orders",
        {"source": "pos", "business_date": D2},
        arrow(table("orders"), [*d2_orders, extra]),
    )
    report = build(lake=lake)
    after = snapshot(lake, *OUTPUTS)
    changed = {path for path in after if after[path][0] != before[path][0]}
    assert "dws/store_day/business_date=2024-01-02/data.parquet" in changed
    assert all("business_date=2024-01-02" in path for path in changed)
    assert report.written["dwd/orders"] == 1
    store_day = pq.read_table(
        lake.root / "dws/store_day/business_date=2024-01-02/data.parquet"
    ).to_pylist()
    assert store_day[0]["paid_minor"] == 1050


def test_vanished_input_deletes_its_partitions(lake: Lake) -> None:
    build(lake=lake)
    lake.delete_partition("ods", "orders", {"source": "pos", "business_date": D2})
    report = build(lake=lake)
    assert report.deleted["dwd/orders"] == 1
    assert not lake.exists("dws", "store_day", {"business_date": D2})


def test_range_without_data_raises_and_writes_nothing(lake: Lake) -> None:
    with pytest.raises(NoData) as caught:
        build(lake=lake, date_from=dt.date(2030, 1, 1), date_to=dt.date(2030, 1, 31))
    assert caught.value.code == "build.no_data"
    assert not (lake.root / "dwd").exists() and not (lake.root / "dws").exists()
    assert list_runs(lake) == []


def test_run_log_records_ok_and_failed_runs(lake: Lake) -> None:
    build(lake=lake, date_from=D1, date_to=D2)
    corrupt = lake.partition_file(
        "ods", "orders", {"source": "pos", "business_date": D3.replace(day=4)}
    )
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"not parquet")
    with pytest.raises(EngineError):
        build(lake=lake)
    failed, ok = list_runs(lake)
    assert (ok.status, ok.kind, ok.engine, ok.date_from, ok.date_to) == (
        "ok",
        "build",
        "duckdb",
        D1,
        D2,
    )
    assert ok.partitions["dws/store_day"] == 2 and ok.rows["dws/store_day"] == 3
    assert ok.finished_at is not None and ok.finished_at >= ok.started_at
    assert failed.status == "failed" and failed.error and "orders" in failed.error
    assert failed.started_at >= ok.started_at


def test_progress_reports_every_partition(lake: Lake) -> None:
    seen: dict[str, list[int]] = {}

    class Task:
        def __init__(self, name: str) -> None:
            self.name = name

        def advance(self, amount: int = 1) -> None:
            seen[self.name].append(amount)

    class Progress:
        def task(self, description: str, total: int | None) -> Task:
            seen[description] = []
            return Task(description)

    report = build(lake=lake, progress=Progress())
    assert sum(seen["dws/store_day"]) == report.written["dws/store_day"]
