"""The membership API through the real app on SQLite and PostgreSQL: schemes created and replaced by
marketers, shoppers enrolled by a channel, wallet top-ups with their bonus, points spent on a coupon
in one transaction, service corrections of points, paid membership bought, renewed and cancelled;
roles, stable validation codes, and Idempotency-Key replays that act once.

The ``shop`` fixture (an app over the demo schemes, templates and a two-store catalogue, with a
user of every role) is shared with ``test_api_coupons`` and ``test_api_service``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.test_api_app import Api, api_settings
from tests.integration.test_api_flashsales import problem

from newretail.api import create_app
from newretail.api.deps import get_now
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.oltp.tables import (
    catalogue_prices,
    catalogue_products,
    catalogue_stores,
    coupons,
    identity_links,
    identity_persons,
    loyalty_entries,
    loyalty_schemes,
)
from newretail.security.audit import Action

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
STORES = ("S1", "S2")
LATTE, BEANS = "P-LATTE", "P-BEANS"


@dataclass
class Shop:
    """A running app on the module's database, its clock, and bearer headers per role."""

    api: Api
    clock: dict[str, dt.datetime]
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:
        return self.api.client

    def at(self, moment: dt.datetime) -> None:
        self.clock["now"] = moment

    def person(self, source: str = "app") -> tuple[str, str]:
        """A new OneID person linked to one ``source`` record: (person id, record id)."""
        person_id = f"P{uuid.uuid4().hex[:12].upper()}"
        record_id = f"{source}-{uuid.uuid4().hex[:10]}"
        with self.api.engine.begin() as conn:
            conn.execute(
                insert(identity_persons).values(
                    person_id=person_id,
                    status="active",
                    origin="resolve",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            conn.execute(
                insert(identity_links).values(
                    source=source,
                    source_record_id=record_id,
                    person_id=person_id,
                    reason_kind="single",
                    reason="test",
                    origin="api",
                    linked_at=NOW,
                )
            )
        return person_id, record_id

    def post(
        self, path: str, body: Any, *, role: str, key: str | None = None, **headers: str
    ) -> Any:
        """POST as ``role`` with an Idempotency-Key (a fresh one unless ``key``)."""
        sent = {**self.users[role], "Idempotency-Key": key or secrets.token_hex(8), **headers}
        return self.client.post(f"/api/v1{path}", json=body, headers=sent)

    def put(self, path: str, body: Any, *, role: str) -> Any:
        sent = {**self.users[role], "Idempotency-Key": secrets.token_hex(8)}
        return self.client.put(f"/api/v1{path}", json=body, headers=sent)

    def get(self, path: str, *, role: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params=params, headers=self.users[role])

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def enrol(self, person_id: str, scheme_id: str = "coffee_club") -> dict[str, Any]:
        body = {"scheme_id": scheme_id, "member": {"person_id": person_id}, "channel": "app"}
        return dict(self.ok(self.post("/loyalty/memberships", body, role="channel"), 201))

    def top_up(self, membership_id: int, amount_minor: int) -> dict[str, Any]:
        body = {"amount_minor": amount_minor, "payment_method": "wechat_pay"}
        path = f"/loyalty/memberships/{membership_id}/wallet/top-ups"
        return dict(self.ok(self.post(path, body, role="channel"), 201))

    def membership(self, membership_id: int) -> dict[str, Any]:
        return dict(self.ok(self.get(f"/loyalty/memberships/{membership_id}", role="analyst")))

    def coupon_count(self, person_id: str) -> int:
        with self.api.engine.connect() as conn:
            query = select(func.count()).where(coupons.c.person_id == person_id)
            return int(conn.execute(query).scalar_one())


def _catalogue(engine: Engine) -> None:
    """Two open stores in Shanghai, a latte (sizes M and L) and a bag of beans, in CNY."""
    with engine.begin() as conn:
        for store in STORES:
            conn.execute(
                insert(catalogue_stores).values(
                    store_id=store,
                    name=f"门店{store}",
                    city="上海",
                    currency="CNY",
                    timezone="Asia/Shanghai",
                    open=True,
                )
            )
        for product, category, sizes, price in (
            (LATTE, "coffee", {"CNY": {"M": 0, "L": 300}}, 3000),
            (BEANS, "retail", {}, 8000),
        ):
            conn.execute(
                insert(catalogue_products).values(
                    product_id=product,
                    name=product,
                    name_en=product,
                    category=category,
                    subcategory=None,
                    sizes=sizes,
                    on_sale=True,
                )
            )
            conn.execute(
                insert(catalogue_prices).values(
                    product_id=product, currency="CNY", price_minor=price
                )
            )


@pytest.fixture(scope="module")
def shop(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    with migrated_engine.begin() as conn:
        ensure_demo_schemes(conn, now=NOW)
        ensure_demo_templates(conn, now=NOW)
    _catalogue(migrated_engine)
    settings = api_settings(tmp_path_factory.mktemp("loyalty") / "home", database_url)
    app = create_app(settings, flush_in_background=False)
    clock = {"now": NOW}
    app.dependency_overrides[get_now] = lambda: clock["now"]
    with TestClient(app) as client:
        api = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, api.admin = api.user("admin")
        found = Shop(api=api, clock=clock)
        for role in ("marketer", "channel", "analyst", "service_agent"):
            found.users[role] = api.user(role)[1]
        found.users["manager"] = api.user("store_manager", ("S1",))[1]
        found.users["far_manager"] = api.user("store_manager", ("S9",))[1]
        yield found


@pytest.fixture(autouse=True)
def _clock(shop: Shop) -> Iterator[None]:
    shop.at(NOW)
    yield
    shop.at(NOW)


def scheme_body(scheme_id: str, **change: Any) -> dict[str, Any]:
    """A free Singapore scheme enrolling through Tmall (the one channel the demo leaves free)."""
    body: dict[str, Any] = {
        "id": scheme_id,
        "name": "茶会员",
        "name_en": "Tea club",
        "kind": "free",
        "currency": "SGD",
        "rules": {
            "channels": ["tmall"],
            "tier_metric": "points",
            "tiers": [
                {"id": "leaf", "name": "叶", "name_en": "Leaf", "threshold": 0},
                {"id": "bud", "name": "芽", "name_en": "Bud", "threshold": 1000},
            ],
            "earn": {"minor_per_point": 100, "expiry_months": 12},
        },
    }
    body.update(change)
    return body


def test_marketers_create_and_replace_schemes_others_read_them(shop: Shop) -> None:
    scheme_id = f"tea_{uuid.uuid4().hex[:8]}"
    created = shop.ok(shop.post("/loyalty/schemes", scheme_body(scheme_id), role="marketer"), 201)
    assert created["id"] == scheme_id and created["rules"]["tiers"][1]["threshold"] == 1000
    listed = shop.ok(shop.get("/loyalty/schemes", role="analyst"))
    assert scheme_id in {s["id"] for s in listed["data"]}
    assert {"coffee_club", "paid_annual"} <= {s["id"] for s in listed["data"]}

    changed = scheme_body(scheme_id, name_en="Tea club+")
    del changed["id"]
    updated = shop.ok(shop.put(f"/loyalty/schemes/{scheme_id}", changed, role="marketer"))
    assert updated["name_en"] == "Tea club+"
    assert shop.ok(shop.get(f"/loyalty/schemes/{scheme_id}", role="channel"))["name_en"] == (
        "Tea club+"
    )
    assert shop.api.audit_count(Action.SCHEME_CREATED) >= 1
    assert shop.api.audit_count(Action.SCHEME_UPDATED) >= 1

    # A channel transacts; it does not design schemes. A store manager does not read them.
    problem(
        shop.post("/loyalty/schemes", scheme_body("x_y"), role="channel"),
        403,
        "auth.permission_denied",
    )
    problem(shop.get("/loyalty/schemes", role="manager"), 403, "auth.permission_denied")
    problem(shop.get("/loyalty/schemes/nope", role="analyst"), 404, "loyalty.scheme_unknown")


def test_bad_schemes_are_refused_with_their_field(shop: Shop) -> None:
    paid_without_price = scheme_body(f"tea_{uuid.uuid4().hex[:8]}", kind="paid")
    refused = shop.post("/loyalty/schemes", paid_without_price, role="marketer")
    problem(refused, 422, "loyalty.bad_scheme")

    bad_currency = shop.post(
        "/loyalty/schemes", scheme_body("tea_eur", currency="EUR"), role="marketer"
    )
    problem(bad_currency, 422, "loyalty.bad_scheme")
    assert bad_currency.json()["errors"][0]["field"] == "currency"

    unordered = scheme_body("tea_ladder")
    unordered["rules"]["tiers"].reverse()
    refused = shop.post("/loyalty/schemes", unordered, role="marketer")
    problem(refused, 422, "request.invalid")
    assert refused.json()["errors"][0]["field"] == "rules.tiers"

    problem(
        shop.post(
            "/loyalty/schemes", {**scheme_body("tea_extra"), "colour": "red"}, role="marketer"
        ),
        422,
        "request.invalid",
    )
    taken = shop.post(
        "/loyalty/schemes", scheme_body("coffee_club", currency="CNY"), role="marketer"
    )
    problem(taken, 409, "loyalty.scheme_exists")
    no_key = shop.client.post(
        "/api/v1/loyalty/schemes", json=scheme_body("tea_nokey"), headers=shop.users["marketer"]
    )
    problem(no_key, 422, "idempotency.key_required")
    with shop.api.engine.connect() as conn:
        ids = set(conn.execute(select(loyalty_schemes.c.id)).scalars())
    assert not {"tea_eur", "tea_ladder", "tea_extra", "tea_nokey"} & ids


def test_a_channel_enrols_a_shopper_once_by_person_or_by_record(shop: Shop) -> None:
    person_id, record_id = shop.person()
    member = {"source": "app", "source_record_id": record_id}
    body = {"scheme_id": "coffee_club", "member": member, "channel": "app"}
    joined = shop.ok(shop.post("/loyalty/memberships", body, role="channel"), 201)
    assert joined["person_id"] == person_id and joined["tier"] == "green"
    assert joined["balances"] == {
        "points": 0,
        "wallet_principal_minor": 0,
        "wallet_bonus_minor": 0,
        "wallet_currency": "CNY",
    }
    assert joined["paid"] is None
    again = shop.enrol(person_id)
    assert again["id"] == joined["id"]
    mine = shop.ok(shop.get(f"/loyalty/persons/{person_id}/memberships", role="service_agent"))
    assert [m["id"] for m in mine["data"]] == [joined["id"]]

    unknown = {**body, "member": {"source": "app", "source_record_id": "nobody"}}
    problem(shop.post("/loyalty/memberships", unknown, role="channel"), 404, "person.unknown")
    paid = {**body, "scheme_id": "paid_annual"}
    problem(shop.post("/loyalty/memberships", paid, role="channel"), 422, "loyalty.scheme_paid")
    # Enrolling again through any channel finds the membership; a newcomer needs a covered one.
    elsewhere = {**body, "member": {"person_id": shop.person()[0]}, "channel": "meituan"}
    refused = shop.post("/loyalty/memberships", elsewhere, role="channel")
    problem(refused, 422, "loyalty.channel_not_covered")
    assert refused.json()["errors"][0]["field"] == "channel"
    both = {**body, "member": {"person_id": person_id, **member}}
    problem(shop.post("/loyalty/memberships", both, role="channel"), 422, "request.invalid")
    problem(shop.post("/loyalty/memberships", body, role="marketer"), 403, "auth.permission_denied")
    problem(shop.get("/loyalty/memberships/999999", role="analyst"), 404, "membership.unknown")


def test_a_top_up_earns_its_bonus_once_however_often_it_is_sent(shop: Shop) -> None:
    membership_id = shop.enrol(shop.person()[0])["id"]
    path = f"/loyalty/memberships/{membership_id}/wallet/top-ups"
    body = {"amount_minor": 30_000, "payment_method": "alipay"}
    first = shop.post(path, body, role="channel", key="topup-1")
    assert first.status_code == 201, first.text
    assert first.json()["bonus_minor"] == 4_000
    replay = shop.post(path, body, role="channel", key="topup-1")
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    problem(
        shop.post(path, {**body, "amount_minor": 100}, role="channel", key="topup-1"),
        409,
        "idempotency.key_reused",
    )
    balances = shop.membership(membership_id)["balances"]
    assert (balances["wallet_principal_minor"], balances["wallet_bonus_minor"]) == (30_000, 4_000)

    for bad, where in (
        ({**body, "amount_minor": 0}, "amount_minor"),
        ({**body, "payment_method": "stored_value"}, "payment_method"),
        ({"amount_minor": 100}, "payment_method"),
    ):
        refused = shop.post(path, bad, role="channel")
        problem(refused, 422, "request.invalid")
        assert refused.json()["errors"][0]["field"] == where
    problem(shop.post(path, body, role="service_agent"), 403, "auth.permission_denied")
    problem(
        shop.post("/loyalty/memberships/999999/wallet/top-ups", body, role="channel"),
        404,
        "membership.unknown",
    )
    # The scheme caps the wallet at 500,000: with 34,000 held, 458,001 and its 8,000 of bonus
    # are 1 too many.
    over = shop.post(path, {**body, "amount_minor": 458_001}, role="channel")
    problem(over, 409, "wallet.over_limit")
    assert over.json()["errors"][0]["field"] == "amount_minor"
    assert shop.membership(membership_id)["balances"]["wallet_principal_minor"] == 30_000
    paid = shop.ok(shop.post("/loyalty/paid", _paid_body(shop.person()[0]), role="channel"), 201)
    walletless = f"/loyalty/memberships/{paid['membership_id']}/wallet/top-ups"
    problem(shop.post(walletless, body, role="channel"), 409, "loyalty.no_wallet")


def test_history_pages_through_the_ledger_newest_first(shop: Shop) -> None:
    membership_id = shop.enrol(shop.person()[0])["id"]
    shop.top_up(membership_id, 10_000)
    shop.top_up(membership_id, 500)
    adjust = {"points": 300, "reason": "goodwill"}
    path = f"/loyalty/memberships/{membership_id}"
    shop.ok(shop.post(f"{path}/points/adjustments", adjust, role="marketer"), 201)

    everything = shop.ok(shop.get(f"{path}/history", role="service_agent"))
    assert [(e["account_kind"], e["kind"], e["amount"]) for e in everything["data"]] == [
        ("points", "adjust", 300),
        ("wallet", "topup", 500),
        ("wallet_bonus", "bonus", 1_000),
        ("wallet", "topup", 10_000),
    ]
    assert everything["next_before_id"] is None
    wallet_only = shop.ok(shop.get(f"{path}/history", role="analyst", kinds="wallet", limit=2))
    assert [e["kind"] for e in wallet_only["data"]] == ["topup", "bonus"]
    older = shop.ok(
        shop.get(
            f"{path}/history",
            role="analyst",
            kinds="wallet",
            limit=2,
            before_id=wallet_only["next_before_id"],
        )
    )
    assert [e["amount"] for e in older["data"]] == [10_000]
    points_only = shop.ok(shop.get(f"{path}/history", role="analyst", kinds="points"))
    assert [e["detail"]["reason"] for e in points_only["data"]] == ["goodwill"]
    refused = shop.get(f"{path}/history", role="analyst", kinds="points,cash")
    problem(refused, 422, "request.invalid")
    assert refused.json()["errors"][0]["field"] == "kinds"


def test_points_buy_a_coupon_in_one_transaction(shop: Shop) -> None:
    person_id = shop.person()[0]
    membership_id = shop.enrol(person_id)["id"]
    path = f"/loyalty/memberships/{membership_id}/points"
    credited = shop.post(
        f"{path}/adjustments", {"points": 1_000, "reason": "survey"}, role="marketer"
    )
    assert shop.ok(credited, 201)["balance"] == 1_000

    body = {"points": 400, "template_id": "welcome_5_off"}
    bought = shop.post(f"{path}/redemptions", body, role="channel", key="redeem-1")
    got = shop.ok(bought, 201)
    assert (got["points"], got["balance"], got["template_id"]) == (-400, 600, "welcome_5_off")
    replay = shop.post(f"{path}/redemptions", body, role="channel", key="redeem-1")
    assert replay.json() == got and replay.headers["Idempotent-Replayed"] == "true"
    held = shop.ok(shop.get("/coupons", role="analyst", person_id=person_id))
    assert [c["id"] for c in held["data"]] == [got["coupon_id"]]

    # The welcome coupon is one per person: no second coupon, so no points spent either.
    problem(
        shop.post(f"{path}/redemptions", body, role="channel"),
        409,
        "coupon_template.person_limit",
    )
    # Too few points: no coupon issued either.
    too_many = {"points": 601, "template_id": "size_up"}
    problem(shop.post(f"{path}/redemptions", too_many, role="channel"), 409, "points.insufficient")
    assert shop.coupon_count(person_id) == 1
    assert shop.membership(membership_id)["balances"]["points"] == 600
    problem(
        shop.post(f"{path}/redemptions", {"points": 1, "template_id": "nope"}, role="channel"),
        404,
        "coupon_template.unknown",
    )
    problem(
        shop.post(f"{path}/redemptions", {"points": 0, "template_id": "size_up"}, role="channel"),
        422,
        "request.invalid",
    )


def test_service_corrections_need_loyalty_manage_and_are_audited(shop: Shop) -> None:
    membership_id = shop.enrol(shop.person()[0])["id"]
    path = f"/loyalty/memberships/{membership_id}/points/adjustments"
    before = shop.api.audit_count(Action.POINTS_ADJUSTED)
    body = {"points": 250, "reason": "missing points for order 42"}
    first = shop.post(path, body, role="marketer", key="adjust-1")
    assert shop.ok(first, 201) == {"membership_id": membership_id, "points": 250, "balance": 250}
    shop.post(path, body, role="marketer", key="adjust-1")
    taken = shop.post(path, {"points": -100, "reason": "double credit"}, role="marketer")
    assert shop.ok(taken, 201)["balance"] == 150
    assert shop.api.audit_count(Action.POINTS_ADJUSTED) == before + 2
    for role in ("channel", "service_agent", "analyst"):
        problem(shop.post(path, body, role=role), 403, "auth.permission_denied")
    problem(shop.post(path, {"points": 0, "reason": "x"}, role="marketer"), 422, "points.zero")
    problem(shop.post(path, {"points": 5}, role="marketer"), 422, "request.invalid")
    assert shop.membership(membership_id)["balances"]["points"] == 150


def test_paid_membership_is_bought_renewed_and_cancelled_pro_rata(shop: Shop) -> None:
    person_id = shop.person()[0]
    body = {
        "scheme_id": "paid_annual",
        "member": {"person_id": person_id},
        "payment_method": "card",
    }
    bought = shop.post("/loyalty/paid", body, role="channel", key="buy-1")
    first = shop.ok(bought, 201)
    assert (first["starts_on"], first["ends_on"]) == ("2026-03-02", "2027-03-01")
    assert (first["price_minor"], first["status"]) == (19_900, "active")
    assert shop.post("/loyalty/paid", body, role="channel", key="buy-1").json() == first
    # The first month's vouchers: a free drink and two 10 off 30.
    held = shop.ok(shop.get("/coupons", role="analyst", person_id=person_id))["data"]
    assert sorted(c["template_id"] for c in held) == [
        "paid_monthly_10_off",
        "paid_monthly_10_off",
        "paid_monthly_free_drink",
    ]
    membership = shop.membership(first["membership_id"])
    assert membership["scheme_id"] == "paid_annual" and membership["paid"]["id"] == first["id"]

    shop.at(NOW + dt.timedelta(days=300))
    renewed = shop.ok(shop.post("/loyalty/paid", body, role="channel"), 201)
    assert renewed["starts_on"] == "2027-03-02"
    assert shop.membership(first["membership_id"])["paid"]["id"] == first["id"]

    # Cancelling the renewal before it begins refunds all of it; marketers cannot cancel.
    cancel = f"/loyalty/paid/{renewed['id']}/cancel"
    problem(shop.post(cancel, None, role="marketer"), 403, "auth.permission_denied")
    before = shop.api.audit_count(Action.PAID_CANCELLED)
    cancelled = shop.ok(shop.post(cancel, None, role="channel"))
    assert (cancelled["status"], cancelled["refund_minor"]) == ("cancelled", 19_900)
    assert shop.ok(shop.post(cancel, None, role="channel")) == cancelled
    assert shop.api.audit_count(Action.PAID_CANCELLED) == before + 1
    problem(
        shop.post("/loyalty/paid/999999/cancel", None, role="channel"),
        404,
        "loyalty.period_unknown",
    )

    problem(
        shop.post("/loyalty/paid", {**body, "scheme_id": "coffee_club"}, role="channel"),
        422,
        "loyalty.scheme_not_paid",
    )
    problem(
        shop.post("/loyalty/paid", {**body, "payment_method": "platform"}, role="channel"),
        422,
        "request.invalid",
    )
    problem(shop.post("/loyalty/paid", body, role="service_agent"), 403, "auth.permission_denied")


def _paid_body(person_id: str, payment_method: str = "card") -> dict[str, Any]:
    return {
        "scheme_id": "paid_annual",
        "member": {"person_id": person_id},
        "payment_method": payment_method,
    }


def test_a_service_agent_cancels_paid_membership_and_refunds_it(shop: Shop) -> None:
    person_id = shop.person()[0]
    membership_id = shop.enrol(person_id)["id"]
    shop.top_up(membership_id, 30_000)  # and 4,000 of bonus
    period = shop.ok(
        shop.post("/loyalty/paid", _paid_body(person_id, "stored_value"), role="channel"), 201
    )
    shop.at(NOW + dt.timedelta(days=30))
    cancel = f"/loyalty/paid/{period['id']}/cancel"
    for role in ("marketer", "analyst"):
        problem(shop.post(cancel, None, role=role), 403, "auth.permission_denied")
    before = shop.api.audit_count(Action.PAID_CANCELLED)
    cancelled = shop.ok(shop.post(cancel, None, role="service_agent"))
    # 365 days bought; 30 days and the day of cancelling used.
    assert (cancelled["status"], cancelled["refund_minor"]) == ("cancelled", 19_900 * 334 // 365)
    balances = shop.membership(membership_id)["balances"]
    assert balances["wallet_principal_minor"] + balances["wallet_bonus_minor"] == (
        34_000 - 19_900 + cancelled["refund_minor"]
    )
    assert shop.api.audit_count(Action.PAID_CANCELLED) == before + 1


def test_paid_membership_paid_from_the_wallet_is_refunded_to_it(shop: Shop) -> None:
    person_id = shop.person()[0]
    membership_id = shop.enrol(person_id)["id"]
    body = {
        "scheme_id": "paid_annual",
        "member": {"person_id": person_id},
        "payment_method": "stored_value",
    }
    problem(shop.post("/loyalty/paid", body, role="channel"), 409, "wallet.insufficient")
    shop.top_up(membership_id, 30_000)  # and 4,000 of bonus
    period = shop.ok(shop.post("/loyalty/paid", body, role="channel"), 201)
    balances = shop.membership(membership_id)["balances"]
    assert balances["wallet_principal_minor"] + balances["wallet_bonus_minor"] == 34_000 - 19_900

    shop.at(NOW + dt.timedelta(days=100))
    cancelled = shop.ok(shop.post(f"/loyalty/paid/{period['id']}/cancel", None, role="channel"))
    days = 365
    assert cancelled["refund_minor"] == 19_900 * (days - 101) // days
    balances = shop.membership(membership_id)["balances"]
    assert balances["wallet_principal_minor"] + balances["wallet_bonus_minor"] == (
        34_000 - 19_900 + cancelled["refund_minor"]
    )
    with shop.api.engine.connect() as conn:
        kinds = conn.execute(
            select(loyalty_entries.c.kind).where(loyalty_entries.c.natural_key.like("paid%"))
        ).scalars()
        assert {"pay", "refund"} <= set(kinds)
