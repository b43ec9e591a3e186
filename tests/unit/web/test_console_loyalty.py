"""The loyalty console (TestClient over SQLite, data made through the domain functions): the scheme
pages with members per tier and their rules, the coupon templates with their figures, the create
form refusing bad input beside its field and storing nothing, status changes, and the person page's
Membership & benefits and Service sections with their refund and re-issue actions, each for the
roles allowed and refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.unit.web.chain import Order, write_chain
from tests.unit.web.conftest import NOW, add_user, sign_in
from tests.unit.web.loyalty_seed import World, seed

from newretail.config import Settings
from newretail.identity import actions
from newretail.identity.manual import person_of
from newretail.identity.realtime import import_members
from newretail.lake import Lake
from newretail.loyalty import ledger, wallet
from newretail.loyalty.coupons import get_coupon
from newretail.oltp.tables import audit_log, coupon_templates
from newretail.security import Principal
from newretail.security.pii import PiiProtector
from newretail.trade.order_views import get_order
from newretail.trade.refunds import REASONS
from newretail.web import coupon_form, coupon_view, loyalty, service, service_view
from newretail.web.i18n import LANGUAGES, catalogue

EN = {"accept-language": "en"}
HX = {"hx-request": "true"}


@pytest.fixture
def world(oltp: Engine, lake: Lake, settings: Settings) -> World:
    return seed(oltp, lake, settings, now=NOW)


def template_form(token: str, **change: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": token,
        "template_id": "spring_8_off",
        "name": "春季满40减8",
        "name_en": "Spring: 8 off 40",
        "kind": "amount_off",
        "currency": "CNY",
        "amount_off": "8",
        "threshold": "40.00",
        "channels": ["app", "pos"],
        "stores": "SH01, SH02",
        "valid_days": "30",
        "budget_total": "1000",
        "per_person_limit": "2",
        "stacks_with_tier": "yes",
    }
    form.update(change)
    return form


def templates_count(oltp: Engine) -> int:
    with oltp.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(coupon_templates)).scalar_one())


# --- Schemes ------------------------------------------------------------------------------------


def test_the_schemes_list_and_a_schemes_rules(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    listed = client.get("/console/loyalty/schemes", headers=EN)
    assert listed.status_code == 200
    html = listed.text
    assert 'data-scheme="coffee_club"' in html and 'data-scheme="paid_annual"' in html
    row = re.search(r'<tr data-scheme="coffee_club">.*?</tr>', html, re.S)
    assert row and 'data-figure="members">1<' in row.group(0)
    assert 'id="chart-data"' in html and "js/loyalty_chart.js" in html
    for key in loyalty.LIST_DEFINITIONS:
        assert f'id="def-{key}"' in html and f'href="#def-{key}"' in html

    page = client.get("/console/loyalty/schemes/coffee_club", headers=EN).text
    assert 'data-tier="green"' in page and "One point for every ¥" in page
    assert re.search(r'data-figure="threshold">¥[\d,.]+<', page)
    assert 'id="topup-bonuses"' in page and "Points expire at the end of the month" in page
    for key in loyalty.SCHEME_DEFINITIONS:
        assert f'id="def-{key}"' in page
    paid = client.get("/console/loyalty/schemes/paid_annual", headers=EN).text
    assert 'id="paid-rule"' in paid and "¥199.00" in paid
    assert 'href="/console/coupons/paid_monthly_free_drink"' in paid
    chinese = client.get("/console/loyalty/schemes/coffee_club", headers={"accept-language": "zh"})
    assert "等级阶梯" in chinese.text
    assert client.get("/console/loyalty/schemes/nope").status_code == 404


def test_roles_without_loyalty_read_are_refused(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "sue@example.com", "supply_planner")
    sign_in(client, "sue@example.com")
    for path in ("/console/loyalty/schemes", "/console/coupons", "/console/coupons/size_up"):
        assert client.get(path).status_code == 403
    home = client.get("/console/").text
    assert 'data-nav="membership"' not in home and 'data-nav="coupons"' not in home
    assert client.get(f"/console/customers/{world.person_id}/loyalty").status_code == 403
    assert client.get(f"/console/customers/{world.person_id}/service").status_code == 403


# --- Coupon templates -----------------------------------------------------------------------------


def test_the_templates_table_counts_and_costs(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    token = sign_in(client, "ana@example.com")
    html = client.get("/console/coupons", headers=EN).text
    row = re.search(r'<tr data-template="welcome_5_off">.*?</tr>', html, re.S)
    assert row, html
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row.group(0)))
    assert figures == {
        "issued": "1",
        "redeemed": "1",
        "expired": "0",
        "revoked": "0",
        "rate": "100.0%",
        "cost": "¥5.00",
    }
    expired = re.search(r'<tr data-template="size_up">.*?</tr>', html, re.S)
    assert expired and 'data-figure="expired">1<' in expired.group(0)
    assert 'data-currency="CNY"' in html and 'data-currency="SGD"' in html
    assert "¥5.00 off orders of ¥20.00 or more" in html
    assert 'id="new-template"' not in html  # analysts read, marketers manage
    for key in coupon_view.DEFINITIONS:
        assert f'id="def-{key}"' in html
    refused = client.post("/console/coupons", data=template_form(token))
    assert refused.status_code == 403 and templates_count(oltp) == 6


def test_a_marketer_creates_a_template_and_changes_its_status(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    token = sign_in(client, "mk@example.com")
    assert 'id="new-template"' in client.get("/console/coupons").text
    created = client.post("/console/coupons", data=template_form(token))
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/console/coupons/spring_8_off?done=created"
    page = client.get(created.headers["location"], headers=EN).text
    assert 'data-outcome="created"' in page and "¥8.00 off orders of ¥40.00 or more" in page
    assert "Stores: SH01, SH02" in page and "30 days from issue" in page
    assert 'id="set-paused"' in page and 'id="set-retired"' in page

    paused = client.post(
        "/console/coupons/spring_8_off/status", data={"csrf_token": token, "status": "paused"}
    )
    assert paused.headers["location"] == "/console/coupons/spring_8_off?done=paused"
    page = client.get(paused.headers["location"]).text
    assert 'data-status="paused"' in page and 'id="set-active"' in page
    client.post(
        "/console/coupons/spring_8_off/status", data={"csrf_token": token, "status": "retired"}
    )
    again = client.post(
        "/console/coupons/spring_8_off/status", data={"csrf_token": token, "status": "active"}
    )
    assert again.headers["location"].endswith("?error=coupon_template.retired")
    assert 'data-outcome="coupon_template.retired"' in client.get(again.headers["location"]).text
    with oltp.connect() as conn:
        recorded = list(conn.execute(select(audit_log.c.action)).scalars())
    assert recorded.count("coupon.template_updated") == 2
    assert "coupon.template_created" in recorded


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amount_off": ""}, "amount_off", "coupon_template.amount_required"),
        ({"amount_off": "9.999"}, "amount_off", "coupon_form.bad_money"),
        ({"valid_days": "soon"}, "valid_days", "coupon_form.bad_number"),
        ({"valid_days": "", "valid_until": ""}, "valid_days", "coupon_template.validity_required"),
        ({"percent_off": "20"}, "percent_off", "coupon_template.field_not_for_kind"),
        (
            {"kind": "percent_off", "amount_off": "", "threshold": "", "percent_off": "150"},
            "percent_off",
            None,
        ),
        (
            {"kind": "free_item", "amount_off": "", "threshold": ""},
            "target_product_id",
            "coupon_template.target_required",
        ),
        (
            {"valid_from": "2026-05-01T00:00", "valid_until": "2026-04-01T00:00"},
            "valid_until",
            "coupon_template.bad_window",
        ),
        ({"template_id": "Bad Id!"}, "template_id", None),
        ({"template_id": "welcome_5_off"}, "template_id", "coupon_template.exists"),
    ],
)
def test_the_form_shows_each_problem_beside_its_field_and_stores_nothing(
    client: TestClient,
    oltp: Engine,
    world: World,
    change: dict[str, object],
    field: str,
    code: str | None,
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    token = sign_in(client, "mk@example.com")
    answer = client.post("/console/coupons", data=template_form(token, **change), headers=EN)
    assert answer.status_code == 422
    assert f'data-error-for="{field}"' in answer.text
    if code is not None and code in coupon_form.KNOWN_ERRORS:
        assert catalogue("en")[f"coupon_error.{code}"] in answer.text.replace("&#39;", "'")
    assert 'value="春季满40减8"' in answer.text  # what was typed comes back
    assert templates_count(oltp) == 6


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    assert client.post("/console/coupons", data=template_form("forged")).status_code == 403
    assert templates_count(oltp) == 6


# --- The person page's sections ----------------------------------------------------------------


def test_the_person_page_loads_both_sections_for_a_service_agent(
    client: TestClient, oltp: Engine, lake: Lake, world: World
) -> None:
    write_chain(lake, [Order("SH01", NOW.date(), "pos", 1_000)])
    add_user(oltp, "sam@example.com", "service_agent")
    sign_in(client, "sam@example.com")
    page = client.get(f"/console/customers/{world.person_id}")
    assert page.status_code == 200, page.text
    assert f'hx-get="/console/customers/{world.person_id}/loyalty"' in page.text
    assert f'hx-get="/console/customers/{world.person_id}/service"' in page.text


def test_membership_and_benefits(client: TestClient, oltp: Engine, world: World) -> None:
    add_user(oltp, "sam@example.com", "service_agent")
    sign_in(client, "sam@example.com")
    html = client.get(f"/console/customers/{world.person_id}/loyalty", headers=EN).text
    card = re.search(r'<article class="programme loyalty-card".*?</article>', html, re.S)
    assert card and 'data-scheme="coffee_club"' in card.group(0)
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', card.group(0)))
    # Topped up 100 + 10 bonus, paid 66.00 in proportion (60.00 principal, 6.00 bonus).
    assert figures["points"] == "123"
    assert (figures["wallet"], figures["bonus"]) == ("¥40.00", "¥4.00")
    kinds = re.findall(r'<tr class="entry"[^>]*data-kind="(\w+)"', html)
    assert kinds[:2] == ["earn", "earn"] and "topup" in kinds and "pay" in kinds
    coupons = dict(re.findall(r'<tr data-coupon="(\w+)" data-status="(\w+)"', html))
    assert coupons == {world.welcome_coupon: "redeemed", world.expired_coupon: "expired"}
    assert 'data-action="reissue"' in html
    for key in service.LOYALTY_DEFINITIONS:
        assert f'id="def-loyalty-{key}"' in html


def test_the_history_pages_back_with_htmx(client: TestClient, oltp: Engine, world: World) -> None:
    with oltp.begin() as conn:
        for n in range(12):
            wallet.top_up(
                conn,
                world.membership_id,
                100,
                bonus_minor=0,
                currency="CNY",
                natural_key=f"many-{n}",
                payment_method="cash",
                actor="test",
                now=NOW,
            )
    add_user(oltp, "sam@example.com", "service_agent")
    sign_in(client, "sam@example.com")
    html = client.get(f"/console/customers/{world.person_id}/loyalty").text
    first = re.findall(r'<tr class="entry" data-entry="(\d+)"', html)
    assert len(first) == service_view.HISTORY_PAGE
    older = re.search(r'hx-get="([^"]+/history\?before=\d+)"', html)
    assert older
    rest = client.get(older.group(1).replace("&amp;", "&"), headers=HX).text
    second = re.findall(r'<tr class="entry" data-entry="(\d+)"', rest)
    assert second and max(map(int, second)) < min(map(int, first))
    with oltp.connect() as conn:
        total = len(
            ledger.history(conn, world.membership_id, service_view.BOOKS, limit=100, before_id=None)
        )
    assert len(first) + len(second) <= total
    other = client.get(
        f"/console/customers/P_nobody/memberships/{world.membership_id}/history?before=99"
    )
    assert other.status_code == 404


def test_an_agent_reissues_an_expired_coupon(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "sam@example.com", "service_agent")
    token = sign_in(client, "sam@example.com")
    path = f"/console/customers/{world.person_id}/coupons/{world.expired_coupon}/reissue"
    empty = client.post(path, data={"csrf_token": token, "reason": " "}, headers=HX)
    assert 'data-outcome="coupon.bad_reason"' in empty.text
    done = client.post(path, data={"csrf_token": token, "reason": "expired on holiday"}, headers=HX)
    assert done.status_code == 200 and 'data-outcome="reissued"' in done.text
    coupons = dict(re.findall(r'<tr data-coupon="(\w+)" data-status="(\w+)"', done.text))
    assert len(coupons) == 3 and list(coupons.values()).count("issued") == 1
    # The same coupon again: the replacement there is, nothing new.
    plain = client.post(path, data={"csrf_token": token, "reason": "again"})
    assert plain.status_code == 303
    assert plain.headers["location"].endswith("?loyalty_done=reissued#loyalty")
    again = client.get(f"/console/customers/{world.person_id}/loyalty?loyalty_done=reissued").text
    assert len(re.findall(r"<tr data-coupon=", again)) == 3 and 'data-outcome="reissued"' in again
    foreign = client.post(
        f"/console/customers/P_other/coupons/{world.expired_coupon}/reissue",
        data={"csrf_token": token, "reason": "x"},
        headers=HX,
    )
    assert 'data-outcome="coupon.unknown"' in foreign.text


def test_refunds_by_line_and_whole_restore_every_balance(
    client: TestClient, oltp: Engine, world: World
) -> None:
    add_user(oltp, "sam@example.com", "service_agent")
    token = sign_in(client, "sam@example.com")
    section = client.get(f"/console/customers/{world.person_id}/service", headers=EN).text
    assert re.findall(r'<tr class="service-order" data-order="(\w+)"', section) == [
        world.card_order,
        world.wallet_order,
    ]
    assert section.count('data-action="refund-whole"') == 2
    for name in service.SERVICE_DEFINITIONS:
        assert f'id="def-service-{name}"' in section
    key = re.search(
        rf'data-order="{world.card_order}">.*?name="refund_key" value="([^"]+)"', section, re.S
    )
    assert key
    by_line = {
        "csrf_token": token,
        "refund_key": key.group(1),
        "reason": "quality",
        "whole": "no",
        "line_no": ["1", "2"],
        "quantity": ["0", "1"],
    }
    path = f"/console/customers/{world.person_id}/orders/{world.card_order}/refund"
    first = client.post(path, data=by_line, headers=HX)
    assert 'data-outcome="refunded"' in first.text
    client.post(path, data=by_line, headers=HX)  # the same form twice refunds once
    with oltp.connect() as conn:
        order = get_order(conn, world.card_order)
    assert (order.order.status, order.order.refunded_minor, len(order.refunds)) == (
        "partially_refunded",
        1500,
        1,
    )
    too_many = client.post(
        path, data={**by_line, "refund_key": "k2", "quantity": ["0", "2"]}, headers=HX
    )
    assert 'data-outcome="refund.exceeds_order"' in too_many.text
    unreadable = client.post(
        path, data={**by_line, "refund_key": "k3", "quantity": ["x", "1"]}, headers=HX
    )
    assert 'data-outcome="refund.bad_quantity"' in unreadable.text

    with oltp.connect() as conn:
        points_before = ledger.balance(conn, world.membership_id, "points")
    whole = client.post(
        f"/console/customers/{world.person_id}/orders/{world.wallet_order}/refund",
        data={"csrf_token": token, "refund_key": "w1", "reason": "late", "whole": "yes"},
    )
    assert whole.status_code == 303 and whole.headers["location"].endswith(
        "?service_done=refunded#service"
    )
    with oltp.connect() as conn:
        balance = wallet.balances(conn, world.membership_id)
        points_after = ledger.balance(conn, world.membership_id, "points")
        coupon = get_coupon(conn, world.welcome_coupon)
        recorded = list(conn.execute(select(audit_log.c.action)).scalars())
    assert (balance.principal_minor, balance.bonus_minor) == (10_000, 1_000)
    assert points_before - points_after == 65 and coupon.status == "issued"
    assert recorded.count("order.refunded") == 2
    after = client.get(f"/console/customers/{world.person_id}/service?service_done=refunded").text
    assert 'data-outcome="refunded"' in after
    assert after.count('data-action="refund-whole"') == 1  # nothing left of the wallet order


def test_who_may_see_and_refund_orders(client: TestClient, oltp: Engine, world: World) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    add_user(oltp, "ana@example.com", "analyst")
    add_user(oltp, "shop@example.com", "store_manager", stores=("SH02",))
    refund = {"csrf_token": "", "refund_key": "r", "reason": "late", "whole": "yes"}
    path = f"/console/customers/{world.person_id}/orders/{world.wallet_order}/refund"

    refund["csrf_token"] = sign_in(client, "mk@example.com")
    assert client.get(f"/console/customers/{world.person_id}/service").status_code == 403
    loyalty_html = client.get(f"/console/customers/{world.person_id}/loyalty").text
    assert 'data-action="reissue"' not in loyalty_html  # marketers do not re-issue
    assert client.post(path, data=refund).status_code == 403
    reissue = f"/console/customers/{world.person_id}/coupons/{world.expired_coupon}/reissue"
    assert client.post(reissue, data={**refund, "reason": "x"}).status_code == 403
    client.cookies.clear()

    refund["csrf_token"] = sign_in(client, "ana@example.com")
    section = client.get(f"/console/customers/{world.person_id}/service").text
    assert section.count('class="service-order"') == 2 and "refund-whole" not in section
    assert client.post(path, data=refund).status_code == 403
    client.cookies.clear()

    refund["csrf_token"] = sign_in(client, "shop@example.com")
    section = client.get(f"/console/customers/{world.person_id}/service").text
    assert re.findall(r'class="service-order" data-order="(\w+)"', section) == [world.card_order]
    assert "refund-whole" not in section
    assert client.get(f"/console/customers/{world.person_id}/loyalty").status_code == 403
    assert client.post(path, data=refund).status_code == 403
    with oltp.connect() as conn:
        assert get_order(conn, world.wallet_order).order.status == "placed"


# --- Navigation and catalogue keys -----------------------------------------------------------------

DYNAMIC = (
    [f"loyalty.kpi_{key}" for key in loyalty.SCHEME_DEFINITIONS]
    + [f"def.loyalty.{key}" for key in loyalty.SCHEME_DEFINITIONS]
    + [f"loyalty.{key}_{m}" for key in ("tier_rule", "tiers_note") for m in ("spend", "points")]
    + [f"loyalty.kind_{kind}" for kind in ("free", "paid")]
    + [f"coupon.kpi_{key}" for key in coupon_view.DEFINITIONS]
    + [f"def.coupon.{key}" for key in coupon_view.DEFINITIONS]
    + [f"coupon.kind_{kind}" for kind in coupon_form.KINDS]
    + [f"coupon.status_{s}" for s in ("active", "paused", "retired")]
    + [f"coupon.state_{s}" for s in ("issued", "redeemed", "expired", "revoked")]
    + [f"coupon.done_{done}" for done in ("created", "active", "paused", "retired")]
    + [f"coupon_error.{code}" for code in coupon_form.KNOWN_ERRORS]
    + ["coupon_error.coupon_template.retired", "coupon_error.coupon_template.bad_status"]
    + [f"person_loyalty.{key}" for key in service.LOYALTY_DEFINITIONS]
    + [f"def.person_loyalty.{key}" for key in service.LOYALTY_DEFINITIONS]
    + [f"service.{key}" for key in service.SERVICE_DEFINITIONS]
    + [f"def.service.{key}" for key in service.SERVICE_DEFINITIONS]
    + [f"service.error.{code}" for code in (*service.ERRORS, service.GENERAL_ERROR)]
    + [f"service.done_{done}" for done in ("refunded",)]
    + [f"person_loyalty.done_{done}" for done in ("reissued",)]
    + [f"person_loyalty.status_{s}" for s in ("active", "closed")]
    + [f"person_loyalty.period_{s}" for s in ("active", "cancelled")]
    + [f"ledger.book_{book}" for book in service_view.BOOKS]
    + [
        f"ledger.kind.{kind}"
        for kind in (
            "earn",
            "spend",
            "expire",
            "reverse_earn",
            "reverse_spend",
            "adjust",
            "topup",
            "bonus",
            "pay",
            "refund",
        )
    ]
    + [f"order_status.{s}" for s in ("placed", "partially_refunded", "refunded")]
    + [f"refund_reason.{reason}" for reason in REASONS]
)


@pytest.mark.parametrize("key", DYNAMIC)
def test_every_key_the_loyalty_pages_build_exists(key: str) -> None:
    for language in LANGUAGES:
        assert key in catalogue(language)


def test_the_nav_leads_to_the_loyalty_pages(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "mk@example.com", "marketer")
    sign_in(client, "mk@example.com")
    home = client.get("/console/").text
    assert 'href="/console/loyalty/schemes" class="nav-item" data-nav="membership"' in home
    assert 'href="/console/coupons" class="nav-item" data-nav="coupons"' in home
    assert 'id="no-schemes"' in client.get("/console/loyalty/schemes").text


def test_a_channel_account_reads_no_person_and_a_merged_id_shows_its_person(
    client: TestClient, oltp: Engine, settings: Settings, world: World
) -> None:
    add_user(oltp, "till@example.com", "channel")
    add_user(oltp, "sam@example.com", "service_agent")
    sign_in(client, "till@example.com")
    for section in ("loyalty", "service"):
        assert client.get(f"/console/customers/{world.person_id}/{section}").status_code == 403
    client.cookies.clear()
    with oltp.begin() as conn:
        import_members(
            conn,
            "erp",
            [{"source_record_id": "E2", "phone": "13900139000", "name": "Member E2"}],
            protector=PiiProtector.from_settings(settings),
            now=NOW,
        )
        absorbed = person_of(conn, "erp", "E2")
        assert absorbed is not None
        actions.merge(
            conn,
            principal=Principal.cli(),
            keep=world.person_id,
            absorb=absorbed,
            reason="t",
            now=NOW,
        )
    sign_in(client, "sam@example.com")
    section = client.get(f"/console/customers/{absorbed}/service").text
    assert len(re.findall(r'class="service-order"', section)) == 2
    assert f"/console/customers/{world.person_id}/orders/" in section
