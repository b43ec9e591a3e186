"""The supply alerts page (TestClient over SQLite, alerts saved through the domain): grouped by
severity with each alert's figures, a store manager seeing and acknowledging only its stores', a
planner everything, an analyst reading without acknowledging, filters, the CSRF check; and the
sentences that explain an alert's figures, given the values they are written from."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.conftest import NOW, add_user, sign_in

from newretail.model.codes import LOCATION_TYPES, UNITS
from newretail.supply.alerts import KINDS, STATUSES, Alert, StoredAlert, save_alerts
from newretail.web.i18n import LANGUAGES, catalogue
from newretail.web.supply_alerts_view import DEFINITIONS, DONE, ERRORS, FIGURES, explain

AS_OF = dt.date(2026, 3, 31)
EN = {"accept-language": "en"}
STOCKOUT = {
    "on_hand": 1500,
    "in_transit": 0,
    "daily_forecast": 1000.0,
    "forecast_to_delivery": 2000.0,
    "cover_days": 1,
    "lead_days": 2,
    "stockout_on": "2026-04-02",
    "next_delivery_on": "2026-04-03",
    "short_quantity": 500,
    "rescue_tonight": True,
    "unit": "ml",
}


@pytest.fixture
def alerts(oltp: Engine) -> None:
    with oltp.begin() as conn:
        save_alerts(
            conn,
            [
                Alert("stockout", "high", "store", "S1", "M1", AS_OF, STOCKOUT),
                Alert(
                    "stockout", "critical", "store", "S2", "M1", AS_OF, STOCKOUT | {"cover_days": 0}
                ),
                Alert(
                    "late_delivery",
                    "high",
                    "warehouse",
                    "W1",
                    "M2",
                    AS_OF,
                    {
                        "days_late": 1,
                        "ordered_packs": 60,
                        "pack_size": 1000,
                        "ordered_quantity": 60000,
                        "po_ids": ["PO-1"],
                        "from_type": "supplier",
                        "from_id": "V1",
                        "expected_on": "2026-03-30",
                        "unit": "ml",
                    },
                ),
            ],
            now=NOW,
        )


def rows(html: str) -> dict[str, str]:
    """Alert key → its status, as the page lists them."""
    return dict(re.findall(r'data-key="([^"]+)" data-kind="[^"]+" data-status="([^"]+)"', html))


def test_a_store_manager_sees_and_acknowledges_its_stores_alerts(
    client: TestClient, oltp: Engine, alerts: None
) -> None:
    add_user(oltp, "sm@example.com", "store_manager", stores=("S1",))
    token = sign_in(client, "sm@example.com")
    page = client.get("/console/supply/alerts", headers=EN)
    assert page.status_code == 200
    assert rows(page.text) == {"stockout/store/S1/M1/2026-03-31": "open"}
    assert 'id="scope-note"' in page.text
    assert 'data-severity="high"' in page.text and 'data-severity="critical"' not in page.text
    assert '<dd data-figure="on_hand">1,500</dd>' in page.text
    alert_id = re.search(r'data-alert="(\d+)"', page.text)
    assert alert_id is not None
    path = f"/console/supply/alerts/{alert_id.group(1)}/acknowledge"
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    done = client.post(path, data={"csrf_token": token, "back": "/console/supply/alerts"})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/supply/alerts?done=acknowledged"
    after = client.get(done.headers["location"], headers=EN).text
    assert rows(after) == {"stockout/store/S1/M1/2026-03-31": "acknowledged"}
    assert 'data-outcome="acknowledged"' in after
    assert 'data-action="acknowledge"' not in after


def test_a_planner_sees_every_alert_and_filters_them(
    client: TestClient, oltp: Engine, alerts: None
) -> None:
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    page = client.get("/console/supply/alerts", headers=EN).text
    assert set(rows(page)) == {
        "stockout/store/S1/M1/2026-03-31",
        "stockout/store/S2/M1/2026-03-31",
        "late_delivery/warehouse/W1/M2/2026-03-31",
    }
    assert page.index('data-severity="critical"') < page.index('data-severity="high"')
    assert page.count('data-action="acknowledge"') == 3
    late = client.get("/console/supply/alerts", params={"kind": "late_delivery"}, headers=EN).text
    assert set(rows(late)) == {"late_delivery/warehouse/W1/M2/2026-03-31"}
    none = client.get("/console/supply/alerts", params={"status": "resolved"}, headers=EN).text
    assert rows(none) == {} and 'id="no-alerts"' in none


def test_an_analyst_reads_but_does_not_acknowledge_and_a_marketer_is_refused(
    client: TestClient, oltp: Engine, alerts: None
) -> None:
    add_user(oltp, "an@example.com", "analyst")
    token = sign_in(client, "an@example.com")
    page = client.get("/console/supply/alerts", headers=EN).text
    assert len(rows(page)) == 3 and 'data-action="acknowledge"' not in page
    alert_id = re.findall(r'data-alert="(\d+)"', page)[0]
    refused = client.post(
        f"/console/supply/alerts/{alert_id}/acknowledge", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    client.post("/console/logout", data={"csrf_token": token})
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    assert client.get("/console/supply/alerts", headers=EN).status_code == 403


def said(key: str, **values: Any) -> str:
    """A stand-in catalogue: the key and the values it was given, to check what goes where."""
    return key + "|" + ";".join(f"{k}={v}" for k, v in sorted(values.items()))


def stored(kind: str, numbers: dict[str, Any]) -> StoredAlert:
    return StoredAlert(
        1,
        kind,
        "high",
        "store",
        "S1",
        "M1",
        AS_OF,
        numbers,
        "open",
        NOW,
        NOW,
        None,
        None,
        None,
        None,
    )


def test_the_sentences_carry_the_figures_with_their_units_and_money() -> None:
    text = explain(stored("stockout", STOCKOUT), said, lambda prefix, value: f"<{value}>")
    assert "supply_alerts.explain_stockout|" in text
    assert "on_hand=supply_alerts.quantity|amount=1,500;unit=<ml>" in text
    assert "daily=supply_alerts.quantity|amount=1,000;unit=<ml>" in text
    assert "cover_days=1" in text and "stockout_on=2026-04-02" in text
    assert text.endswith("supply_alerts.rescue_yes|day=2026-04-02")  # tonight's order lands day 2
    waste = {
        "on_hand": 12,
        "expiring_quantity": 12,
        "received_later": 0,
        "at_risk_quantity": 8,
        "expires_on": "2026-04-01",
        "window_days": 2,
        "cost_minor": 400,
        "currency": "CNY",
        "unit": "piece",
    }
    text = explain(stored("expiring", waste), said, lambda prefix, value: str(value))
    assert text.startswith("supply_alerts.explain_expiring_no_forecast|")
    assert "cost=¥4.00" in text and "at_risk=supply_alerts.quantity|amount=8;unit=piece" in text
    text = explain(
        stored("expiring", waste | {"forecast_to_expiry": 4.0}), said, lambda p, v: str(v)
    )
    assert (
        text.startswith("supply_alerts.explain_expiring|")
        and "sold=supply_alerts.quantity|amount=4" in text
    )


# Keys the page builds from values (the template's literal ones are checked by test_i18n).
BUILT = [
    *(f"supply_alerts.term_{k}" for k in DEFINITIONS),
    *(f"def.supply_alerts.{k}" for k in DEFINITIONS),
    *(f"supply_alerts.status_{s}" for s in (*STATUSES, "unresolved")),
    *(f"supply_alerts.done_{d}" for d in DONE),
    *(f"supply_alerts.error_{e}" for e in ERRORS),
    *(f"supply_alerts.fig_{k}" for keys in FIGURES.values() for k in keys),
    *(f"supply_alerts.resolution_{r}" for r in ("superseded", "cleared")),
    *(f"supply_alerts.at_{place}" for place in LOCATION_TYPES),
    *(f"supply_alerts.from_{source}" for source in ("warehouse", "supplier")),
    *(f"supply_alerts.unit.{unit}" for unit in UNITS),
    *(f"supply_alerts.explain_{kind}" for kind in KINDS),
    "supply_alerts.explain_expiring_no_forecast",
    "supply_alerts.rescue_yes",
    "supply_alerts.rescue_no",
    "supply_alerts.quantity",
]


@pytest.mark.parametrize("key", BUILT)
def test_every_key_the_page_builds_is_translated(key: str) -> None:
    for language in LANGUAGES:
        assert key in catalogue(language)
