"""File-level errors stop the run before any write; re-ingest is a no-op; a changed file replaces by key."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.unit.ingest.ingest_fixture import (
    DECLARATIONS,
    ORDERS_HEADER,
    lake_bytes,
    lake_listing,
    order_row,
    write_dimensions,
    write_orders,
)

from newretail.config import Settings
from newretail.errors import InvalidInput
from newretail.ingest import ingest
from newretail.lake.storage import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def src(tmp_path: Path, lake: Lake, settings: Settings) -> Path:
    """A source directory already ingested once, so the lake has something to leave untouched."""
    root = tmp_path / "src"
    write_dimensions(root)
    write_orders(root, "2026-01.csv", [order_row("O1"), order_row("O2")])
    ingest(root, lake=lake, settings=settings, declarations=DECLARATIONS)
    return root


def _bad_encoding(root: Path) -> str:
    path = root / "pos" / "orders" / "2026-02.csv"
    path.write_bytes(ORDERS_HEADER.encode("gbk") + order_row("O9").encode() + b"O10,\xff\xfe\n")
    return "pos/orders/2026-02.csv:3"


def _wrong_columns(root: Path) -> str:
    (root / "pos" / "orders" / "2026-02.csv").write_bytes(b"store,placed\nS001,2026-01-01\n")
    return "pos/orders/2026-02.csv:1"


def _unknown_source(root: Path) -> str:
    (root / "tiktok").mkdir()
    (root / "tiktok" / "x.csv").write_text("a\n1\n")
    return "tiktok"


def _unrecognised(root: Path) -> str:
    (root / "pos" / "refunds.csv").write_text("a\n1\n")
    return "pos/refunds.csv"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_bad_encoding, "ingest.bad_encoding"),
        (_wrong_columns, "ingest.wrong_columns"),
        (_unknown_source, "ingest.unknown_source"),
        (_unrecognised, "ingest.unrecognised_file"),
    ],
)
def test_file_errors_leave_the_lake_untouched(
    src: Path, lake: Lake, settings: Settings, make: object, code: str
) -> None:
    # A new good file sorts before the bad one: it must not be written either.
    write_orders(src, "2026-01-b.csv", [order_row("O3")])
    position = make(src)  # type: ignore[operator]
    before = lake_listing(lake.root)
    with pytest.raises(InvalidInput) as error:
        ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    assert error.value.code == code
    assert error.value.position == position
    assert lake_listing(lake.root) == before


def test_wrong_columns_names_the_missing_columns(src: Path, lake: Lake, settings: Settings) -> None:
    _wrong_columns(src)
    with pytest.raises(InvalidInput, match=r"2026-02.csv lacks declared columns: 单号, fulfil"):
        ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)


def test_bad_encoding_names_line_and_byte(src: Path, lake: Lake, settings: Settings) -> None:
    _bad_encoding(src)
    with pytest.raises(InvalidInput, match=r"not valid gbk at line 3, byte \d+"):
        ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)


def test_missing_and_empty_directories(tmp_path: Path, lake: Lake, settings: Settings) -> None:
    with pytest.raises(InvalidInput) as missing:
        ingest(tmp_path / "nope", lake=lake, settings=settings, declarations=DECLARATIONS)
    assert missing.value.code == "ingest.missing_dir"
    (tmp_path / "empty" / "pos").mkdir(parents=True)
    with pytest.raises(InvalidInput) as empty:
        ingest(tmp_path / "empty", lake=lake, settings=settings, declarations=DECLARATIONS)
    assert empty.value.code == "ingest.no_files"
    assert not lake.root.exists()


def test_reingest_changes_nothing(src: Path, lake: Lake, settings: Settings) -> None:
    before, listing = lake_bytes(lake.root), lake_listing(lake.root)
    report = ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    assert {f.status for f in report.files} == {"unchanged"}
    assert report.accepted_by_table == {} and report.rejected_by_reason == {}
    assert lake_bytes(lake.root) == before
    assert lake_listing(lake.root) == listing
    # Same bytes at a new mtime: hashed, found identical, still not re-ingested.
    path = src / "pos" / "orders" / "2026-01.csv"
    path.write_bytes(path.read_bytes())
    report = ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    assert {f.status for f in report.files} == {"unchanged"}
    assert lake_bytes(lake.root) == before


def test_changed_file_replaces_rows_by_key(src: Path, lake: Lake, settings: Settings) -> None:
    write_orders(src, "2026-01.csv", [order_row("O1", gross="99.00"), order_row("O3", gross="bad")])
    report = ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    status = {f.path: f.status for f in report.files}
    assert status["pos/orders/2026-01.csv"] == "ingested"
    assert status["erp/products.csv"] == "unchanged"
    [partition] = lake.files("ods", "orders")
    orders = {r["order_id"]: r["gross_minor"] for r in pq.read_table(partition).to_pylist()}
    assert orders == {"O1": 9900, "O2": 1850}  # O1 replaced, O2 kept, O3 rejected
    [rejects] = lake.files("quarantine", "orders")
    assert [r["line"] for r in pq.read_table(rejects).to_pylist()] == [3]
    # Fixed again: the file's quarantine partition goes away with its rejects.
    write_orders(src, "2026-01.csv", [order_row("O1", gross="99.00")])
    ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    assert lake.files("quarantine", "orders") == []


def test_report_lines_by_declaration(src: Path, lake: Lake, settings: Settings) -> None:
    write_orders(src, "2026-02.csv", [order_row("O5"), order_row("O5")])
    report = ingest(src, lake=lake, settings=settings, declarations=DECLARATIONS)
    lines = {line.name: line for line in report.by_declaration()}
    assert lines["pos.orders"].files == 2 and lines["pos.orders"].unchanged == 1
    assert (lines["pos.orders"].rows, lines["pos.orders"].accepted) == (2, 1)
    assert report.rejected_by_reason == {"duplicate_key": 1}
    assert "1 files ingested" in report.describe()
