"""The catalogues agree on their keys, every key the templates and views use exists, and the
language is chosen from the switch, then the browser, then Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newretail.identity.search import MATCHES
from newretail.model import codes
from newretail.security import Action, Role
from newretail.supply.health.model import GROUPINGS, WASTE_REASONS
from newretail.supply.replenish.plan_records import STATUSES
from newretail.supply.replenish.policy import REASONS
from newretail.web import (
    customers,
    identity_forms,
    review,
    supplier_view,
    supply_health_view,
    supply_view,
)
from newretail.web.i18n import LANGUAGES, catalogue, pick_language, translate
from newretail.web.overview import DEFINITIONS
from newretail.web.overview_view import CHANNEL_ORDER
from newretail.web.person_view import CONSENTS
from newretail.web.render import NAV

WEB = Path(__file__).parents[3] / "src" / "newretail" / "web"
# Keys the Python code passes to templates or builds from a value.
DYNAMIC = (
    [f"nav.{item.key}" for item in NAV]
    + [f"role.{role}" for role in Role]
    + [f"action.{action}" for action in Action]
    + [f"kpi.{key}" for key in DEFINITIONS]
    + [f"def.{key}" for key in DEFINITIONS]
    + [f"channel.{channel}" for channel in CHANNEL_ORDER]
    + ["auth.failed", "auth.form_expired", "error.forbidden", "error.csrf"]
    + ["audit.bad_date", "audit.bad_range", "chart.orders", "chart.sales_in"]
    + [f"person.{key}" for key in customers.DEFINITIONS]
    + [f"pdef.{key}" for key in customers.DEFINITIONS]
    + [f"person.done_{done}" for done in customers.DONE]
    + [f"review.done_{done}" for done in review.DONE]
    + [f"review.field_{field}" for field in review.FIELDS]
    + [f"error.{code}" for code in (*identity_forms.ERRORS, identity_forms.GENERAL_ERROR)]
    + [f"consent.{channel}" for channel in CONSENTS]
    + [f"matched_by.{match}" for match in MATCHES]
    + [f"source.{source}" for source in (*codes.SOURCES, "api")]
    + [f"status.{status}" for status in ("active", "provisional", "retired")]
    + [f"reason.{kind}" for kind in ("identifier", "match", "manual", "single")]
    + [f"timeline.{kind}" for kind in ("order", "refund", "complaint", "event", "merge")]
    + [f"timeline.{kind}" for kind in ("unmerge", "split", "remerge")]
    + [f"gender.{gender}" for gender in codes.GENDERS]
    + [f"order_status.{status}" for status in codes.ORDER_STATUSES]
    + [f"refund_reason.{reason}" for reason in codes.REFUND_REASONS]
    + [f"complaint.{category}" for category in codes.COMPLAINT_CATEGORIES]
    + ["customers.empty_query", "customers.not_found", "customers.not_found_title"]
    + ["person.chart_orders", "person.chart_paid"]
    + [f"supply.reason_{reason}" for reason in REASONS]
    + [f"supply.status_{status}" for status in STATUSES]
    + [f"supply.fig_{key}" for key in supply_view.DEFINITIONS]
    + [f"def.supply.{key}" for key in supply_view.DEFINITIONS]
    + [f"supply.error_{error}" for error in supply_view.ERRORS]
    + [f"supply.done_{done}" for done in supply_view.DONE]
    + [f"supply.{part}_{kind}" for part in ("kind", "from") for kind in ("store", "warehouse")]
    + [
        f"supply.tab_{tab}"
        for tab in ("replenishment", "forecast", "alerts", "health", "simulation")
    ]
    + [f"supply_health.term_{key}" for key in supply_health_view.DEFINITIONS]
    + [f"def.supply_health.{key}" for key in supply_health_view.DEFINITIONS]
    + [f"supply_health.error_{error}" for error in supply_health_view.ERRORS]
    + [f"supply_health.{part}_{group}" for part in ("by", "table") for group in GROUPINGS]
    + [f"supply_health.reason_{reason}" for reason in WASTE_REASONS]
    + [f"supply_health.age_{bucket}" for bucket in ("0_2", "3_7", "8_30", "31_plus")]
    + [f"supplier.term_{key}" for key in supplier_view.DEFINITIONS]
    + [f"def.supplier.{key}" for key in supplier_view.DEFINITIONS]
    + [f"supplier.error_{error}" for error in ("unknown_supplier", "no_data")]
)


def test_the_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("zh-CN")) == set(catalogue("en"))


def test_every_key_in_the_templates_exists() -> None:
    used = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.-]+)["']\s*[,)]""", template.read_text()))
    assert used, "no t() calls found"
    for language in LANGUAGES:
        assert used - set(catalogue(language)) == set()


@pytest.mark.parametrize("key", DYNAMIC)
def test_every_key_built_in_code_exists(key: str) -> None:
    for language in LANGUAGES:
        assert key in catalogue(language)


def test_placeholders_agree_between_languages() -> None:
    for key, english in catalogue("en").items():
        assert set(re.findall(r"{(\w+)}", english)) == set(
            re.findall(r"{(\w+)}", catalogue("zh-CN")[key])
        ), key


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        ("en", "zh-CN", "en"),
        ("zh-CN", "en-US", "zh-CN"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),
        (None, "fr-FR, en;q=0.5", "en"),
        (None, "en;q=0.2, zh;q=0.8", "zh-CN"),
        (None, "fr-FR", "zh-CN"),
        ("xx", None, "zh-CN"),
        (None, "en;q=abc", "zh-CN"),
    ],
)
def test_the_language_is_picked_in_order(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert pick_language(cookie, header) == expected


def test_placeholders_are_filled() -> None:
    assert translate("en", "chart.orders", count="1,024") == "1,024 orders"
    assert translate("zh-CN", "chart.orders", count="3") == "3 单"
