"""DWD rules on the fixture: latest version wins, re-deliveries and POS copies go, lines follow."""

from __future__ import annotations

from tests.unit.lake.ods_fixture import rows

from newretail.lake import Lake, build


def test_orders_are_deduplicated_and_pos_copies_dropped(lake: Lake) -> None:
    build(lake=lake)
    orders = {(r["source"], r["order_id"]): r for r in rows(lake, "dwd", "orders")}
    assert sorted(orders) == [
        ("app", "A1"),
        ("app", "A2"),
        ("meituan", "MT1"),
        ("pos", "O1"),
        ("pos", "O2"),
        ("pos", "O3"),
        ("pos", "PC2"),
    ]
    # O2 came twice; the version that was completed (paid 2000) wins over the earlier one.
    assert orders["pos", "O2"]["paid_minor"] == 2000
    # PC1 copied MT1 and is gone; PC2's platform record never arrived, so it stays.
    assert ("pos", "PC1") not in orders
    assert orders["pos", "PC2"]["platform_order_ref"] == "EL9"


def test_lines_follow_their_orders(lake: Lake) -> None:
    build(lake=lake)
    lines = sorted(
        (r["source"], r["order_id"], r["line_no"]) for r in rows(lake, "dwd", "order_lines")
    )
    assert lines == [
        ("app", "A1", 1),
        ("app", "A2", 1),
        ("meituan", "MT1", 1),
        ("pos", "O1", 1),
        ("pos", "O2", 1),
        ("pos", "O3", 1),
        ("pos", "PC2", 1),
    ]


def test_people_keep_their_newest_version(lake: Lake) -> None:
    build(lake=lake)
    records = {r["source_record_id"]: r for r in rows(lake, "dwd", "identity_records")}
    assert {k: r["name"] for k, r in records.items()} == {"U1": "Anne", "U2": "Bo"}
    assert not (lake.root / "dwd" / "identity_records" / "business_date=2024-01-01").exists()


def test_exact_redeliveries_of_events_collapse(lake: Lake) -> None:
    build(lake=lake)
    ids = sorted(r["message_id"] for r in rows(lake, "dwd", "app_events"))
    assert ids == ["E1", "E2", "E3"]


def test_dimensions_are_unpartitioned_and_keep_source_as_a_column(lake: Lake) -> None:
    build(lake=lake)
    assert (lake.root / "dwd" / "stores" / "data.parquet").exists()
    assert {r["source"] for r in rows(lake, "dwd", "stores")} == {"erp"}
