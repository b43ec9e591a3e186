"""Alerts through the lake: the hand-made chain of :mod:`supply_alert_chain` written as DWD, DWS and
ADS files gives exactly the alerts worked out by hand there; without a usable forecast the stock-out
check is skipped with its reason and the other kinds still come."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.supply_alert_chain import AS_OF, EXPECTED, day, publish_forecast, write_alert_chain

from newretail.lake import Lake
from newretail.supply.alerts import compute_alerts


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def test_exactly_the_constructed_alerts_fire(lake: Lake) -> None:
    write_alert_chain(lake)
    computed = compute_alerts(lake, engine="duckdb", as_of=AS_OF)
    assert computed.skipped == []
    found = {a.key: a for a in computed.alerts}
    assert set(found) == EXPECTED
    s2 = found["stockout/store/S2/M1/2026-03-10"]
    assert (s2.severity, s2.numbers["cover_days"], s2.numbers["short_quantity"]) == ("high", 1, 500)
    s4 = found["stockout/store/S4/M1/2026-03-10"]
    assert (s4.severity, s4.numbers["on_hand"], s4.numbers["in_transit"]) == ("critical", 500, 0)
    late = found["late_delivery/warehouse/W1/M1/2026-03-10"].numbers
    assert (late["po_ids"], late["from_id"], late["days_late"]) == (["PO-W1"], "V1", 1)
    short = found["short_delivery/store/S2/M2/2026-03-10"].numbers
    assert (short["delivered_packs"], short["short_packs"]) == (1, 2)
    waste = found["expiring/store/S1/M2/2026-03-10"].numbers
    assert (waste["at_risk_quantity"], waste["cost_minor"]) == (8, 400)
    assert waste["expires_on"] == day(1).isoformat()


def test_without_a_forecast_stock_outs_are_skipped_with_the_reason(lake: Lake) -> None:
    write_alert_chain(lake, forecast=False)
    computed = compute_alerts(lake, engine="duckdb", as_of=AS_OF)
    assert [(s.kind, s.code) for s in computed.skipped] == [("stockout", "supply.no_forecast")]
    assert "stockout" not in computed.kinds
    # Expiry without a forecast counts all 12 expiring croissants as at risk.
    keys = {a.key for a in computed.alerts}
    assert keys == {k for k in EXPECTED if not k.startswith("stockout")}
    waste = next(a for a in computed.alerts if a.kind == "expiring").numbers
    assert waste["at_risk_quantity"] == 12


def test_a_forecast_that_ends_too_soon_is_skipped(lake: Lake) -> None:
    write_alert_chain(lake, forecast=False)
    publish_forecast(lake, origin=day(-6), horizon=7)  # its last day is AS_OF + 1; lead is 2
    computed = compute_alerts(lake, engine="duckdb", as_of=AS_OF)
    assert [(s.kind, s.code) for s in computed.skipped] == [
        ("stockout", "supply.forecast_too_short")
    ]
    assert "2026-03-11" in computed.skipped[0].reason


def test_a_run_published_after_the_day_is_not_used(lake: Lake) -> None:
    write_alert_chain(lake)
    computed = compute_alerts(lake, engine="duckdb", as_of=day(-1))
    assert [s.code for s in computed.skipped] == ["supply.no_forecast"]
