"""The tag and audience pages before any tag refresh (an empty home: each says how to compute tags),
who may open them, how tag values are shown (yes/no, labels, units, money in the person's currency),
the list's sparklines, and that every message key the pages build from a code exists in both
languages."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.conftest import add_user, sign_in

from newretail.audience.saved import SizePoint
from newretail.tags.catalogue import Catalogue
from newretail.tags.spec import CATEGORIES, ENTITIES, VALUE_TYPES
from newretail.web import audiences, store_selection, tags
from newretail.web.audience_view import CONSENTS, EXPORT_KINDS, SCRIPT_MESSAGES, sparkline
from newretail.web.i18n import LANGUAGES, catalogue
from newretail.web.tag_view import format_value, value_label

EN = {"accept-language": "en"}
PAGES = ("/console/tags", "/console/audiences", "/console/audiences/new", "/console/stores/select")
SHIPPED = Catalogue.shipped()

DYNAMIC = (
    [f"tagcat.{c}" for c in CATEGORIES]
    + [f"tagtype.{v}" for v in VALUE_TYPES]
    + [f"tags.entity_{e}" for e in ENTITIES]
    + [f"aud.{part}_{e}" for e in ENTITIES for part in ("entity", "unit", "placeholder")]
    + [f"aud.syntax_examples_{e}" for e in ENTITIES]
    + [f"unit.{spec.unit}" for spec in SHIPPED if spec.unit]
    + [f"tags.kpi_{key}" for key in tags.DEFINITIONS]
    + [f"def.tags.{key}" for key in tags.DEFINITIONS]
    + [f"aud.kpi_{key}" for key in audiences.DEFINITIONS]
    + [f"def.aud.{key}" for key in audiences.DEFINITIONS]
    + [f"aud.done_{key}" for key in audiences.DONE]
    + [f"stores.kpi_{key}" for key in store_selection.DEFINITIONS]
    + [f"def.stores.{key}" for key in store_selection.DEFINITIONS]
    + [f"aud.js.{key}" for key in SCRIPT_MESSAGES]
    + [f"aud.kind_{kind}" for kind in EXPORT_KINDS]
    + [f"consent.{channel}" for channel in CONSENTS]
    + [f"tags.refresh_{r}" for r in ("daily", "realtime")]
    + [
        f"tags.{part}_{s}"
        for s in ("expression", "model", "list")
        for part in ("source", "definition_note")
    ]
)


@pytest.mark.parametrize("key", DYNAMIC)
def test_every_key_built_from_a_code_exists(key: str) -> None:
    for language in LANGUAGES:
        assert key in catalogue(language), (language, key)


@pytest.mark.parametrize("path", PAGES)
def test_before_the_first_refresh_the_pages_say_how(
    client: TestClient, oltp: Engine, path: str
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    page = client.get(path, headers=EN)
    assert page.status_code == 200, page.text
    if path != "/console/audiences":
        assert "newretail tags refresh" in page.text


@pytest.mark.parametrize("path", [*PAGES, "/console/tags/person/gender"])
def test_a_role_without_audiences_read_is_refused(
    client: TestClient, oltp: Engine, path: str
) -> None:
    assert client.get(path).headers["location"] == "/console/login"
    add_user(oltp, "plan@example.com", "supply_planner")
    sign_in(client, "plan@example.com")
    assert client.get(path, headers=EN).status_code == 403


def test_the_navigation_leads_to_the_new_pages(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    home = client.get("/console/", headers=EN).text
    for href in ("/console/tags", "/console/audiences", "/console/stores/select"):
        assert f'href="{href}"' in home
    add_user(oltp, "plan@example.com", "supply_planner")
    client.cookies.clear()
    sign_in(client, "plan@example.com")
    assert 'href="/console/tags"' not in client.get("/console/", headers=EN).text


def test_a_catalogue_tag_page_before_it_is_computed(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    page = client.get("/console/tags/person/gender", headers=EN).text
    assert 'id="not-computed"' in page and 'id="tag-definition"' in page
    assert "tag-data" not in page


def spec(tag_id: str):  # type: ignore[no-untyped-def]
    found = SHIPPED.tag(tag_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("tag", "value", "currency", "en", "zh"),
    [
        ("consent_sms", True, None, "Yes", "是"),
        ("consent_sms", False, None, "No", "否"),
        ("lifecycle_stage", "lapsing", None, "Lapsing", "流失预警"),
        ("favourite_channel", "mini_program", None, "Mini-program", "小程序"),
        ("gender", "F", None, "Female", "女"),
        ("generation", "post_90", None, "post_90", "post_90"),
        ("orders_total", 1234, None, "1,234 orders", "1,234 单"),
        ("days_since_last_order", 12, None, "12 days", "12 天"),
        ("last_order_date", dt.date(2026, 4, 1), None, "2026-04-01", "2026-04-01"),
        ("lifecycle_stage", None, None, "—", "—"),
    ],
)
def test_values_are_shown_in_the_pages_language(
    tag: str, value: object, currency: str | None, en: str, zh: str
) -> None:
    assert format_value("en", spec(tag), value, currency=currency) == en
    assert format_value("zh-CN", spec(tag), value, currency=currency) == zh


def test_money_and_percent_tags() -> None:
    money = next(s for s in SHIPPED if s.unit == "minor" and s.entity == "person")
    percent = next(s for s in SHIPPED if s.unit == "percent")
    assert format_value("en", money, 12345, currency="CNY") == "¥123.45"
    assert format_value("en", money, 12345, currency="SGD") == "S$123.45"
    assert "minor units" in format_value("en", money, 12345)
    assert format_value("en", percent, 42) == "42%"
    assert value_label("en", spec("consent_sms"), "true") == "Yes"
    assert value_label("en", spec("lifecycle_stage"), None) == "No value"


def test_sparklines_span_their_own_range() -> None:
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    points = [SizePoint(v, f"2026-04-{20 + v}", size, at) for v, size in enumerate((100, 150, 50))]
    line = sparkline(points)
    assert line is not None and line.count == 3
    ys = [float(xy.split(",")[1]) for xy in line.points.split()]
    assert ys[1] == min(ys) and ys[2] == max(ys)  # the largest size is drawn highest
    single = sparkline(points[:1])
    assert single is not None and len(single.points.split()) == 2
    assert sparkline([]) is None
