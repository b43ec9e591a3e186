"""Row-level validation: each bad row lands in quarantine with its reason, column and line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.ingest.ingest_fixture import (
    DECLARATIONS,
    order_row,
    write_dimensions,
    write_events,
    write_members,
    write_orders,
)

from newretail.config import Settings
from newretail.ingest import IngestReport, ingest
from newretail.lake.storage import Lake
from newretail.security.pii import PiiProtector

UTC = dt.UTC


def _run(src: Path, lake: Lake, settings: Settings) -> IngestReport:
    return ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)


def _ods(lake: Lake, table: str) -> list[dict[str, object]]:
    return [row for path in lake.files("ods", table) for row in pq.read_table(path).to_pylist()]


def _quarantine(lake: Lake, table: str) -> list[dict[str, object]]:
    return [row for p in lake.files("quarantine", table) for row in pq.read_table(p).to_pylist()]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write_dimensions(root)
    return root


def test_each_bad_order_is_quarantined_with_reason_column_and_line(
    src: Path, lake: Lake, settings: Settings
) -> None:
    write_orders(
        src,
        "2026-01.csv",
        [
            order_row("O1"),  # line 2: good
            order_row("O2", gross="18.505"),  # 3: three decimals
            order_row("O3", gross="1e3"),  # 4: not a plain decimal
            order_row("O1"),  # 5: same key as line 2
            order_row("O4", store="S999"),  # 6: no such store
            order_row("O5", pay="BTC"),  # 7: code missing from codes
            order_row("O6", placed="2026-02-30 10:00:00"),  # 8: no such day
            order_row("O7", status="lost"),  # 9: not an allowed status
            order_row("O8", store=""),  # 10: required store missing
            order_row("O9", placed="2026-01-03T10:15:00+08:00"),  # 11: local time with an offset
            order_row("O10", gross="7.5"),  # 12: good, one decimal
            "O11,S001,dine_in\n",  # 13: too few fields
            order_row("O12"),  # 14: good
        ],
    )
    report = _run(src, lake, settings)
    rejects = {(r["line"], r["reason"], r["column"]) for r in _quarantine(lake, "orders")}
    assert rejects == {
        (3, "bad_money", "gross_minor"),
        (4, "bad_money", "gross_minor"),
        (5, "duplicate_key", "source,order_id"),
        (6, "unknown_store", "store_id"),
        (7, "bad_enum", "payment_method"),
        (8, "bad_time", "placed_at"),
        (9, "bad_enum", "status"),
        (10, "missing_required", "store_id"),
        (11, "bad_time", "placed_at"),
        (13, "bad_record", None),
    }
    orders = {o["order_id"]: o for o in _ods(lake, "orders")}
    assert set(orders) == {"O1", "O10", "O12"}
    assert orders["O1"]["gross_minor"] == 1850 and orders["O10"]["gross_minor"] == 750
    assert report.accepted_by_table["orders"] == 3
    assert report.rejected_by_reason["bad_money"] == 2
    assert sum(report.rejected_by_reason.values()) == 10
    raw = json.loads(next(r["raw"] for r in _quarantine(lake, "orders") if r["line"] == 3))
    assert raw["单号"] == "O2" and raw["gross"] == "18.505"
    assert all(r["source_file"] == "pos/orders/2026-01.csv" for r in _quarantine(lake, "orders"))
    # Any engine reads the quarantine as Hive-partitioned Parquet.
    glob = str(lake.root / "quarantine" / "*" / "*" / "*.parquet")
    counted = duckdb.sql(
        f"SELECT reason, count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
        " WHERE file LIKE 'pos%' GROUP BY reason"
    ).fetchall()
    assert dict(counted)["bad_money"] == 2


def test_local_times_use_each_store_time_zone(src: Path, lake: Lake, settings: Settings) -> None:
    write_orders(
        src,
        "2026-01.csv",
        [
            order_row("SH", store="S001", placed="2026-01-03 23:30:00"),  # Shanghai, UTC+8
            order_row("SG", store="S002", placed="2026-01-04 00:30:00"),  # Singapore, UTC+8 as well
            order_row("SH2", store="S001", placed="2026-01-04 07:59:59"),
        ],
    )
    _run(src, lake, settings)
    partitions = lake.partitions("ods", "orders")
    assert {p["business_date"] for p in partitions} == {"2026-01-03", "2026-01-04"}
    rows = {}
    for p in partitions:
        for row in lake.read_partition("ods", "orders", p).to_pylist():
            rows[row["order_id"]] = (row, p["business_date"])
    assert rows["SH"][0]["placed_at"] == dt.datetime(2026, 1, 3, 15, 30, tzinfo=UTC)
    assert rows["SH"][1] == "2026-01-03" and rows["SH"][0]["business_hour"] == 23
    assert rows["SG"][0]["placed_at"] == dt.datetime(2026, 1, 3, 16, 30, tzinfo=UTC)
    assert rows["SG"][1] == "2026-01-04" and rows["SG"][0]["business_hour"] == 0
    # Local 07:59 on the 4th is still the 3rd in UTC: the partition follows the local date.
    assert rows["SH2"][0]["placed_at"] == dt.datetime(2026, 1, 3, 23, 59, 59, tzinfo=UTC)
    assert rows["SH2"][1] == "2026-01-04" and rows["SH2"][0]["business_hour"] == 7
    lake_path = lake.partition_file(
        "ods", "orders", {"source": "pos", "business_date": "2026-01-03"}
    )
    assert lake_path.parts[-3:] == ("source=pos", "business_date=2026-01-03", "data.parquet")
    stored = pq.read_schema(lake_path)
    assert "source" not in stored.names and "business_date" not in stored.names
    assert stored.field("placed_at").type == pa.timestamp("us", tz="UTC")


def test_members_jsonl_parse_and_pii_never_in_clear(
    src: Path, lake: Lake, settings: Settings, tmp_path: Path
) -> None:
    write_members(
        src,
        "2026-01.jsonl",
        [
            {
                "id": "C1",
                "mobile": "13800138000",
                "mail": "Wang@Example.com",
                "name": "王",
                "sex": "1",
                "birthday": "19900101",
                "sms_ok": "Y",
                "created": "2025-01-01T00:00:00Z",
                "updated": 1767434400000,
            },
            {
                "id": "C2",
                "mobile": "13912345678",
                "mail": "li@example.com",
                "sex": "7",
                "created": "2025-01-01T00:00:00Z",
                "updated": "2026-01-03T08:00:00+08:00",
            },
            {
                "id": "C3",
                "mobile": "13700001111",
                "sms_ok": "maybe",
                "created": "2025-01-01T00:00:00Z",
                "updated": "2026-01-03T08:00:00+08:00",
            },
            {
                "id": "C4",
                "mobile": "13600002222",
                "birthday": "1990-13-01",
                "created": "2025-01-01T00:00:00Z",
                "updated": "2026-01-03T08:00:00+08:00",
            },
        ],
    )
    with (src / "crm" / "members" / "2026-01.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "C5", "mobile": "13500003333"\n')  # line 5: not JSON
    _run(src, lake, settings)
    rejects = {(r["line"], r["reason"], r["column"]) for r in _quarantine(lake, "identity_records")}
    assert rejects == {
        (2, "bad_enum", "gender"),
        (3, "bad_bool", "consent_sms"),
        (4, "bad_date", "birthday"),
        (5, "bad_record", None),
    }
    [member] = _ods(lake, "identity_records")
    protector = PiiProtector.from_settings(settings)
    assert member["phone_masked"] == "138****8000"
    assert protector.decrypt(member["phone_cipher"]) == "+8613800138000"
    assert member["email_hash"] == protector.hash("wang@example.com")
    assert member["updated_at"] == dt.datetime(2026, 1, 3, 10, 0, tzinfo=UTC)
    assert member["gender"] == "M" and member["consent_sms"] is True
    assert member["birthday"] == dt.date(1990, 1, 1)
    # Neither the lake files nor the quarantine carry a clear phone or e-mail.
    for path in lake.root.rglob("*.parquet"):
        blob = path.read_bytes()
        text = json.dumps(pq.read_table(path).to_pylist(), default=str)
        for clear in (
            "13800138000",
            "13912345678",
            "13700001111",
            "13600002222",
            "13500003333",
            "li@example.com",
            "Wang@Example.com",
        ):
            assert clear.encode() not in blob and clear not in text, (path, clear)


def test_parquet_events_utc_and_json(src: Path, lake: Lake, settings: Settings) -> None:
    write_events(
        src,
        "2026-01.parquet",
        pa.table(
            {
                "messageId": ["m1", "m2", "m3", "m4"],
                "type": ["track", "page", "track", "track"],
                "event": ["Product Viewed", "Home", "Added", "Added"],
                "userId": ["u1", None, "u2", "u3"],
                "storeId": ["S001", None, None, None],
                "ts": [
                    "1767484800000",
                    "2026-01-03T23:59:59Z",
                    "yesterday",
                    "2026-01-03T10:00:00Z",
                ],
                "props": ['{ "sku": "P001" }', None, "{}", "[1, 2]"],
            }
        ),
    )
    _run(src, lake, settings)
    rejects = {(r["line"], r["reason"], r["column"]) for r in _quarantine(lake, "app_events")}
    assert rejects == {(2, "bad_time", "occurred_at"), (3, "bad_json", "properties")}
    events = {e["message_id"]: e for e in _ods(lake, "app_events")}
    assert events["m1"]["properties"] == '{"sku":"P001"}'
    assert events["m1"]["occurred_at"] == dt.datetime(2026, 1, 4, 0, 0, tzinfo=UTC)
    dates = {p["business_date"] for p in lake.partitions("ods", "app_events")}
    assert dates == {"2026-01-03", "2026-01-04"}


def test_location_references_and_time_zone(src: Path, lake: Lake, settings: Settings) -> None:
    path = src / "erp" / "inventory" / "2026-01-03.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "loc_type,loc,material,qty,counted\n"
        "store,S002,M001,10,2026-01-03 22:00:00\n"
        "warehouse,W01,M001,500,2026-01-03 23:00:00\n"
        "warehouse,S002,M001,5,2026-01-03 22:00:00\n"
        "shop,S001,M001,5,2026-01-03 22:00:00\n"
        "store,S001,M001,1.5,2026-01-03 22:00:00\n",
        encoding="utf-8",
    )
    _run(src, lake, settings)
    rejects = {
        (r["line"], r["reason"], r["column"]) for r in _quarantine(lake, "inventory_snapshots")
    }
    assert rejects == {
        (4, "unknown_location", "location_id"),
        (5, "bad_enum", "location_type"),
        (6, "bad_int", "on_hand"),
    }
    rows = {r["location_id"]: r for r in _ods(lake, "inventory_snapshots")}
    assert rows["W01"]["counted_at"] == dt.datetime(2026, 1, 3, 15, 0, tzinfo=UTC)


def test_order_lines_check_products_and_quoted_newlines_keep_lines(
    src: Path, lake: Lake, settings: Settings
) -> None:
    path = src / "pos" / "lines" / "2026-01-03.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "order,n,sku,qty,ccy,price,disc,store,day\n"
        '"O1\nX",1,P001,1,CNY,1850,0,S001,2026-01-03\n'  # lines 2-3
        "O1,2,P404,1,CNY,1850,0,S001,2026-01-03\n"  # line 4
        "O1,3,P002,1,CNY,18.50,0,S001,20260103\n"  # line 5
        "O1,4,P002,2,CNY,900,0,S001,20260103\n",  # line 6
        encoding="utf-8",
    )
    _run(src, lake, settings)
    rejects = {(r["line"], r["reason"], r["column"]) for r in _quarantine(lake, "order_lines")}
    assert rejects == {(4, "unknown_product", "product_id"), (5, "bad_money", "unit_price_minor")}
    assert {r["line_no"] for r in _ods(lake, "order_lines")} == {1, 4}
