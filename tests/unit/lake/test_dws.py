"""DWS totals on the fixture, computed by hand from ods_fixture.py."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from tests.unit.lake.ods_fixture import D1, D2, D3, rows

from newretail.lake import Lake, build
from newretail.model import dws


def _by(lake: Lake, name: str, *key: str) -> dict[tuple[object, ...], dict[str, object]]:
    return {tuple(r[k] for k in key): r for r in rows(lake, "dws", name)}


def test_store_day_matches_hand_sums(lake: Lake) -> None:
    build(lake=lake)
    day = _by(lake, "store_day", "store_id", "business_date")
    s1 = day["S1", D1]
    # Orders on S1, D1 after DWD: O1, A1, MT1, PC2 (completed) and A2 (cancelled).
    expected = {
        "currency": "CNY",
        "orders": 5,
        "completed_orders": 4,
        "cancelled_orders": 1,
        "gross_minor": 1000 + 600 + 800 + 300,
        "discount_minor": 100,
        "delivery_fee_minor": 500,
        "paid_minor": 900 + 1100 + 800 + 300,
        "items": 2 + 1 + 1 + 1,
        "member_orders": 3,
        "anonymous_orders": 1,
        "distinct_identities": 3,
        "orders_app": 1,
        "paid_app_minor": 1100,
        "orders_pos": 1,
        "paid_pos_minor": 900,
        "orders_platform": 2,
        "paid_platform_minor": 1100,
        "orders_ecommerce": 0,
        "paid_ecommerce_minor": 0,
        "delivery_orders": 3,
        "on_time_deliveries": 1,
        "late_deliveries": 1,
        "make_seconds_sum": 180 + 600,
        "made_orders": 2,
        "refunds": 1,
        "refund_minor": 200,
        "complaints": 1,
        "ratings": 2,
        "stars_sum": 6,
        "visitors": 50,
        "coupon_redemptions": 1,
        "coupon_discount_minor": 100,
    }
    assert {k: s1[k] for k in expected} == expected
    assert day["S2", D1]["currency"] == "SGD"
    assert day["S2", D1]["paid_minor"] == 2000
    assert day["S1", D2]["paid_minor"] == 1000
    assert set(day) == {("S1", D1), ("S2", D1), ("S1", D2)}


def test_dws_measures_are_counts_and_sums_with_descriptions() -> None:
    for spec in dws.TABLES:
        for field in spec.schema:
            assert field.metadata and field.metadata[b"description"], (spec.name, field.name)
            if field.name not in spec.key and field.name != "currency":
                assert pa.types.is_integer(field.type) or pa.types.is_boolean(field.type), (
                    field.name
                )


def test_store_hour_splits_the_day(lake: Lake) -> None:
    build(lake=lake)
    hour = _by(lake, "store_hour", "store_id", "business_date", "business_hour")
    assert set(hour) == {("S1", D1, 8), ("S1", D1, 12), ("S2", D1, 9), ("S1", D2, 8)}
    assert (
        hour["S1", D1, 8]["orders"],
        hour["S1", D1, 8]["paid_minor"],
        hour["S1", D1, 8]["visitors"],
    ) == (3, 1200, 30)
    assert hour["S1", D1, 12]["late_deliveries"] == 1
    day = _by(lake, "store_day", "store_id", "business_date")["S1", D1]
    s1_d1 = [r for k, r in hour.items() if k[:2] == ("S1", D1)]
    for measure in ("orders", "paid_minor", "items", "make_seconds_sum", "made_orders", "visitors"):
        assert sum(r[measure] for r in s1_d1) == day[measure]


def test_store_product_day(lake: Lake) -> None:
    build(lake=lake)
    spd = _by(lake, "store_product_day", "store_id", "product_id", "business_date")
    p1 = spd["S1", "P1", D1]
    # O1 (2 x 500, 100 off) and PC2 (1 x 300); A2 was cancelled.
    assert (
        p1["units"],
        p1["orders"],
        p1["gross_minor"],
        p1["discount_minor"],
        p1["net_minor"],
    ) == (3, 2, 1300, 100, 1200)
    p2 = spd["S1", "P2", D1]
    assert (p2["units"], p2["orders"], p2["gross_minor"]) == (2, 2, 1400)
    assert spd["S2", "P1", D1]["currency"] == "SGD"


def test_store_material_day_balances(lake: Lake) -> None:
    build(lake=lake)
    smd = _by(lake, "store_material_day", "location_id", "material_id", "business_date")
    movements = ("receipts", "consumption", "transfers_in", "transfers_out", "waste", "adjustments")
    for row in smd.values():
        if row["opening_on_hand"] is not None:
            assert row["closing_on_hand"] == row["opening_on_hand"] + sum(row[m] for m in movements)
    m1 = smd["S1", "M1", D2]
    assert (m1["opening_on_hand"], m1["receipts"], m1["consumption"], m1["transfers_out"]) == (
        1000,
        500,
        -20,
        -100,
    )
    assert (m1["waste"], m1["waste_expiry"], m1["closing_on_hand"], m1["count_variance"]) == (
        -30,
        -30,
        1350,
        0,
    )
    assert m1["bom_demand"] == 20 and m1["stock_out"] is False
    # M2 was not counted on D2: its closing is projected from the opening and the adjustment.
    m2 = smd["S1", "M2", D2]
    assert (m2["opening_on_hand"], m2["closing_on_hand"], m2["count_variance"]) == (50, 45, None)
    assert smd["S1", "M1", D3]["stock_out"] is True
    assert smd["S1", "M1", D1]["opening_on_hand"] is None
    # S2 sells P1 but keeps no stock records: no row is invented for it.
    assert not any(k[0] == "S2" for k in smd)


def test_person_day(lake: Lake) -> None:
    build(lake=lake)
    pd = _by(lake, "person_day", "identity_source", "identity_record_id", "business_date")
    assert set(pd) == {
        ("app", "U1", D1),
        ("meituan", "X1", D1),
        ("mini_program", "OP1", D1),
        ("pos", "C1", D1),
        ("pos", "C1", D2),
    }
    u1 = pd["app", "U1", D1]
    # A1 completed (A2 cancelled does not count); E1 arrived twice and counts once.
    assert (u1["orders"], u1["paid_minor"], u1["items"], u1["app_events"], u1["currency"]) == (
        1,
        1100,
        1,
        1,
        "CNY",
    )
    assert pd["pos", "C1", D1]["coupons_redeemed"] == 1
    op1 = pd["mini_program", "OP1", D1]
    assert (op1["orders"], op1["currency"], op1["app_events"]) == (0, None, 1)
    assert isinstance(D1, dt.date)
