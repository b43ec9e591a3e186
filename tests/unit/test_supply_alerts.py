"""Alerts fire exactly for constructed stock-outs, late and short deliveries and expiring stock: hand
-made arrays and order lines where it is known which cells must alert and with which figures, and a
property test of the stock-out rule against a day-by-day walk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.supply.alerts.deliveries import OrderLine, delivery_alerts
from newretail.supply.alerts.expiry import Lots, MaterialCosts, expiring
from newretail.supply.alerts.stockout import stockouts

AS_OF = dt.date(2026, 3, 1)


def day(offset: int) -> str:
    return (AS_OF + dt.timedelta(days=offset)).isoformat()


def outs(
    on_hand: list[int], arrivals: list[list[int]], lead: list[int], per_day: float = 10.0
) -> dict[str, Any]:
    """Stores S0.. of one material, a flat forecast of ``per_day`` for six days."""
    stores = len(on_hand)
    found = stockouts(
        as_of=AS_OF,
        store_ids=[f"S{i}" for i in range(stores)],
        material_ids=["M1"],
        on_hand=np.array(on_hand).reshape(stores, 1),
        in_transit=np.array(arrivals).reshape(stores, 1, -1),
        forecast=np.full((stores, 1, 6), per_day),
        lead_days=lead,
        units=["piece"],
    )
    return {a.location_id: a for a in found}


def test_a_stock_out_alerts_exactly_when_cover_is_shorter_than_the_lead_time() -> None:
    found = outs(
        on_hand=[20, 19, 5, 5, 30, 9, 10],
        arrivals=[[0, 0, 0], [0, 0, 0], [20, 0, 0], [0, 0, 50], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
        lead=[2, 2, 2, 2, 3, 1, 1],
    )
    # S0: 20 = two days at 10: just covered. S2: short alone, saved by tomorrow's 20.
    # S4: three days' worth for a lead of three. S6: one day for a lead of one.
    assert set(found) == {"S1", "S3", "S5"}
    short_by_a_day = found["S1"].numbers
    assert short_by_a_day["cover_days"] == 1
    assert short_by_a_day["stockout_on"] == day(2)
    assert short_by_a_day["next_delivery_on"] == day(3)
    assert short_by_a_day["short_quantity"] == 1
    assert short_by_a_day["rescue_tonight"] is True
    assert found["S1"].severity == "high"
    too_late = found["S3"]
    assert too_late.severity == "critical"
    assert too_late.numbers["cover_days"] == 0
    assert too_late.numbers["in_transit"] == 0  # 50 come on day 3, after the lead time
    assert too_late.numbers["short_quantity"] == 15
    assert too_late.numbers["rescue_tonight"] is False
    assert found["S5"].numbers["lead_days"] == 1
    assert found["S5"].numbers["daily_forecast"] == 10.0
    assert {a.business_date for a in found.values()} == {AS_OF}


def test_a_delivery_that_arrives_in_time_is_counted_but_a_later_one_is_not() -> None:
    found = outs(on_hand=[15, 15], arrivals=[[0, 10, 0], [0, 0, 10]], lead=[3, 3])
    # S0: 15 - 10 = 5, + 10 - 10 = 5, - 10 = -5: runs short on day 3 (cover 2 < 3).
    # S1: 15 - 10 = 5, - 10 = -5 on day 2 (cover 1).
    assert found["S0"].numbers["cover_days"] == 2
    assert found["S0"].numbers["in_transit"] == 10
    assert found["S0"].severity == "medium"
    assert found["S1"].numbers["cover_days"] == 1
    assert found["S1"].numbers["in_transit"] == 10


def test_no_demand_no_alert_and_figures_for_a_fractional_forecast() -> None:
    assert outs(on_hand=[0], arrivals=[[0]], lead=[2], per_day=0.0) == {}
    found = outs(on_hand=[3], arrivals=[[0]], lead=[2], per_day=1.5)
    assert found == {}  # 3 - 1.5 - 1.5 = 0: covered, not short
    found = outs(on_hand=[2], arrivals=[[0]], lead=[2], per_day=1.5)
    assert found["S0"].numbers["short_quantity"] == 1  # 2 - 3 = -1
    assert found["S0"].numbers["forecast_to_delivery"] == 3.0


def test_a_forecast_shorter_than_the_lead_time_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        stockouts(
            as_of=AS_OF,
            store_ids=["S0"],
            material_ids=["M1"],
            on_hand=[[5]],
            in_transit=np.zeros((1, 1, 1)),
            forecast=np.ones((1, 1, 2)),
            lead_days=[3],
            units=["g"],
        )
    assert caught.value.code == "supply.forecast_too_short"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.lists(st.integers(0, 15), min_size=4, max_size=4),
            st.lists(st.integers(0, 15), min_size=4, max_size=4),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_rule_matches_a_day_by_day_walk(
    cells: list[tuple[int, list[int], list[int], int]],
) -> None:
    found = stockouts(
        as_of=AS_OF,
        store_ids=[f"S{i}" for i in range(len(cells))],
        material_ids=["M1"],
        on_hand=[[c[0]] for c in cells],
        in_transit=[[c[1]] for c in cells],
        forecast=[[c[2]] for c in cells],
        lead_days=[c[3] for c in cells],
        units=["g"],
    )
    expected = {}
    for i, (stock, arriving, demand, lead) in enumerate(cells):
        for k in range(lead):  # the mornings before the next order can arrive
            stock += arriving[k] - demand[k]
            if stock < 0:
                expected[f"S{i}"] = k
                break
    assert {a.location_id: a.numbers["cover_days"] for a in found} == expected


def line(
    po: str,
    *,
    to: str = "S1",
    expected: int = 0,
    ordered: int = 4,
    delivered: int = 0,
    kind: str = "store",
) -> OrderLine:
    return OrderLine(
        location_type="store" if kind == "store" else "warehouse",
        location_id=to,
        material_id="M1",
        po_id=po,
        from_type="warehouse" if kind == "store" else "supplier",
        from_id="W1" if kind == "store" else "V1",
        expected_on=AS_OF + dt.timedelta(days=expected),
        ordered_packs=ordered,
        delivered_packs=delivered,
    )


def test_late_and_short_deliveries() -> None:
    lines = [
        line("A", to="S1", expected=-1),  # a day late
        line("B", to="S1", expected=-3, ordered=2),  # same store and material: one alert
        line("C", to="S2", expected=0),  # due today, not come
        line("D", to="S3", expected=1),  # not due yet
        line("E", to="S4", delivered=1),  # 1 of 4: short, under half
        line("F", to="S5", delivered=2),  # 2 of 4: short, half came
        line("G", to="S6", delivered=4),  # complete
        line("H", to="W1", expected=-1, kind="warehouse"),
    ]
    found = {
        (a.kind, a.location_id): a
        for a in delivery_alerts(lines, as_of=AS_OF, pack_size={"M1": 10}, units={"M1": "ml"})
    }
    assert set(found) == {
        ("late_delivery", "S1"),
        ("late_delivery", "S2"),
        ("late_delivery", "W1"),
        ("short_delivery", "S4"),
        ("short_delivery", "S5"),
    }
    merged = found[("late_delivery", "S1")]
    assert merged.numbers["po_ids"] == ["A", "B"]
    assert merged.numbers["ordered_packs"] == 6
    assert merged.numbers["ordered_quantity"] == 60
    assert merged.numbers["days_late"] == 3
    assert merged.numbers["expected_on"] == day(-3)
    assert merged.severity == "critical"
    assert found[("late_delivery", "S2")].severity == "medium"
    assert found[("late_delivery", "W1")].location_type == "warehouse"
    assert found[("late_delivery", "W1")].numbers["from_type"] == "supplier"
    assert found[("late_delivery", "W1")].severity == "high"
    short = found[("short_delivery", "S4")]
    assert (short.numbers["short_packs"], short.numbers["short_quantity"]) == (3, 30)
    assert short.severity == "high"
    assert found[("short_delivery", "S5")].severity == "medium"


COSTS = MaterialCosts(pack_size=[10], pack_cost_minor=[333], currency=["CNY"], unit=["piece"])


def expiry(
    on_hand: list[int], later: list[int], soon: list[list[int]], demand: list[list[float]] | None
) -> dict[str, Any]:
    places = len(on_hand)
    found = expiring(
        as_of=AS_OF,
        location_type="store",
        location_ids=[f"S{i}" for i in range(places)],
        material_ids=["M1"],
        on_hand=np.array(on_hand).reshape(places, 1),
        lots=Lots(
            later=np.array(later).reshape(places, 1), soon=np.array(soon).reshape(places, 1, -1)
        ),
        costs=COSTS,
        demand=None if demand is None else np.array(demand).reshape(places, 1, -1),
    )
    return {a.location_id: a.numbers | {"severity": a.severity} for a in found}


def test_expiring_stock_is_the_on_hand_beyond_the_newer_lots() -> None:
    found = expiry(
        on_hand=[30, 8, 50, 40],
        later=[10, 10, 10, 0],
        soon=[[15, 20], [5, 5], [5, 0], [0, 0]],
        demand=None,
    )
    # S0: 20 beyond the later lots, all from the lot usable until day 2 (the newer of the two).
    # S1: all on hand is in later lots. S2: 40 beyond them, but only 5 in lots that expire.
    # S3: no lot expires in the window.
    assert set(found) == {"S0", "S2"}
    assert found["S0"]["expiring_quantity"] == found["S0"]["at_risk_quantity"] == 20
    assert found["S0"]["expires_on"] == day(2)
    assert found["S0"]["severity"] == "medium"
    assert found["S0"]["cost_minor"] == 666  # 20 × 333 / 10
    assert "forecast_to_expiry" not in found["S0"]
    assert found["S2"]["expiring_quantity"] == 5
    assert found["S2"]["expires_on"] == day(1)
    assert found["S2"]["severity"] == "high"
    assert found["S2"]["cost_minor"] == 167  # 166.5 rounds half up


def test_the_forecast_sells_the_oldest_stock_first_and_the_rest_is_at_risk() -> None:
    found = expiry(
        on_hand=[30, 30, 12, 12],
        later=[0, 0, 0, 0],
        soon=[[10, 20], [20, 10], [20, 0], [20, 0]],
        demand=[[5, 5], [12, 12], [4, 4], [12, 0]],
    )
    # S0: day 1 sells 5 of the 10 expiring that night (5 wasted); day 2 sells 5 of 20 (15).
    # S1: day 1 sells 12 of 20 (8 wasted), day 2 all 10 of the rest. S2: 12 held, 4 sold, 8 go.
    # S3: 12 held, 12 sold tomorrow: nothing at risk.
    assert set(found) == {"S0", "S1", "S2"}
    assert found["S0"]["at_risk_quantity"] == 20
    assert found["S0"]["expires_on"] == day(1)
    assert found["S0"]["forecast_to_expiry"] == 10.0
    assert found["S1"]["at_risk_quantity"] == 8
    assert found["S2"]["at_risk_quantity"] == 8
    assert found["S2"]["forecast_to_expiry"] == 4.0
    assert found["S2"]["cost_minor"] == 266  # 8 × 333 / 10 = 266.4
