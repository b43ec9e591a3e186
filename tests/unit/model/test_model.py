"""The canonical model is complete and self-describing, and the generated reference is current."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from newretail.errors import NotFound
from newretail.model import CANONICAL, col, description_of, dws, table
from newretail.model.docs import render_markdown
from newretail.model.spec import TableSpec

REPO = Path(__file__).resolve().parents[3]
ALL_TABLES = (*CANONICAL, *dws.TABLES)

# The issue names these subjects; each must have a canonical table.
REQUIRED = {
    "stores", "warehouses", "suppliers", "products", "materials", "bill_of_materials",
    "identity_records", "memberships", "orders", "order_lines", "refunds", "complaints",
    "ratings", "app_events", "coupons_issued", "coupon_redemptions", "inventory_snapshots",
    "inventory_movements", "purchase_orders", "deliveries", "qc_inspections", "iot_readings",
    "footfall",
}  # fmt: skip


def test_every_required_subject_has_a_table() -> None:
    assert {spec.name for spec in CANONICAL} >= REQUIRED


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda s: s.name)
def test_every_column_is_described_and_money_is_integer(spec: TableSpec) -> None:
    for field in spec.schema:
        assert description_of(field), f"{spec.name}.{field.name}"
        if field.name.endswith("_minor"):
            assert pa.types.is_integer(field.type), f"{spec.name}.{field.name} must be minor units"
        if pa.types.is_timestamp(field.type):
            assert field.type.tz == "UTC", f"{spec.name}.{field.name} must be tz-aware UTC"
    money = [f.name for f in spec.schema if f.name.endswith("_minor")]
    if money:
        assert "currency" in spec.schema.names, f"{spec.name} has money without a currency"


def test_dated_tables_partition_by_business_date_last() -> None:
    for spec in CANONICAL:
        if "business_date" in spec.schema.names:
            assert spec.partition_by[-1] == "business_date", spec.name


def test_a_spec_refuses_an_undescribed_column_or_unknown_key() -> None:
    with pytest.raises(ValueError, match="no description"):
        TableSpec("t", "s", "d", pa.schema([pa.field("x", pa.int64())]), key=("x",))
    with pytest.raises(ValueError, match="not a column"):
        TableSpec("t", "s", "d", pa.schema([col("x", pa.int64(), "an x")]), key=("y",))


def test_unknown_table_is_a_not_found_with_a_stable_code() -> None:
    with pytest.raises(NotFound) as caught:
        table("no_such_table")
    assert caught.value.code == "model.unknown_table"


def test_committed_reference_matches_the_schemas() -> None:
    committed = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run `make docs` and commit docs/data-model.md"


def test_reference_lists_every_column() -> None:
    text = render_markdown()
    for spec in ALL_TABLES:
        assert f"## {'dws' if spec in dws.TABLES else 'ods'}.{spec.name}" in text
        for name in spec.schema.names:
            assert f"| `{name}` |" in text
