"""The customer service view through the real app on SQLite and PostgreSQL: a member's memberships
with balances, coupons, orders with refunds, and complaints and ratings from the lake, tied to the
person through OneID; which orders can still be refunded and which coupons re-issued, and both
actions taken through their own endpoints; sections by role and a store manager's store scope."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pyarrow as pa
import pytest
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.test_api_flashsales import problem
from tests.integration.test_api_loyalty import BEANS, LATTE, NOW, Shop, shop

from newretail.lake import Lake
from newretail.model import dwd

__all__ = ["shop"]


def write_lake(shop: Shop, table: str, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` to a DWD table of the app's lake (a new partition per call); columns not given
    are null, or a placeholder when the column is required."""
    schema = dwd.table(table).schema
    placeholder = {
        pa.string(): "x",
        pa.int8(): 0,
        pa.int32(): 0,
        pa.int64(): 0,
        pa.date32(): NOW.date(),
        pa.bool_(): False,
    }

    def value(column: pa.Field[pa.DataType], row: dict[str, Any]) -> Any:
        if column.name in row or column.nullable:
            return row.get(column.name)
        return NOW if pa.types.is_timestamp(column.type) else placeholder[column.type]

    data = pa.Table.from_pylist(
        [{column.name: value(column, row) for column in schema} for row in rows], schema=schema
    )
    day = NOW.date() - dt.timedelta(days=len(Lake(shop.api.settings.lake_dir).files("dwd", table)))
    Lake(shop.api.settings.lake_dir).write_partition("dwd", table, {"business_date": day}, data)


def place(shop: Shop, person_id: str, store: str, **change: Any) -> dict[str, Any]:
    body = {
        "channel": "app",
        "store_id": store,
        "client_order_id": uuid.uuid4().hex,
        "payment_method": "wechat_pay",
        "member": {"person_id": person_id},
        "lines": [{"product_id": LATTE, "quantity": 2, "size": "M"}],
        **change,
    }
    return dict(shop.ok(shop.post("/orders", body, role="channel"), 201))


@pytest.fixture
def member(shop: Shop) -> dict[str, Any]:
    """A member with a wallet, a welcome coupon spent on an S1 order paid from the wallet, a size-up
    coupon unused, a refunded S2 order, and complaints and ratings in the lake (and a stranger's)."""
    person_id, record_id = shop.person()
    membership = shop.enrol(person_id)
    shop.top_up(membership["id"], 10_000)  # and 1,000 of bonus
    for template in ("welcome_5_off", "size_up"):
        body = {"person_ids": [person_id], "issue_key": f"service-{template}"}
        shop.ok(shop.post(f"/coupons/templates/{template}/issues", body, role="marketer"))
    held = shop.ok(shop.get("/coupons", role="analyst", person_id=person_id))["data"]
    codes = {c["template_id"]: c["id"] for c in held}
    near = place(
        shop,
        person_id,
        "S1",
        payment_method="stored_value",
        coupons=[codes["welcome_5_off"]],
    )
    shop.at(NOW + dt.timedelta(minutes=5))
    far = place(shop, person_id, "S2", lines=[{"product_id": BEANS, "quantity": 1}])
    refund = {"reason": "quality"}
    shop.ok(shop.post(f"/orders/{far['id']}/refunds", refund, role="service_agent"), 201)

    history = f"pos-{uuid.uuid4().hex[:8]}"
    write_lake(
        shop,
        "orders",
        [
            {
                "source": "pos",
                "order_id": history,
                "store_id": "S1",
                "identity_source": "app",
                "identity_record_id": record_id,
                "channel": "pos",
                "status": "completed",
                "currency": "CNY",
            }
        ],
    )
    complaints = {
        "about_near": {"order_source": "oms", "order_id": near["id"], "store_id": "S1"},
        "by_record": {"identity_source": "app", "identity_record_id": record_id, "store_id": "S2"},
        "about_history": {"order_source": "pos", "order_id": history, "store_id": "S1"},
        "stranger": {"order_source": "oms", "order_id": "ord_other", "store_id": "S1"},
    }
    write_lake(
        shop,
        "complaints",
        [
            {"source": "service", "complaint_id": f"{name}-{person_id}", "category": "late", **row}
            for name, row in complaints.items()
        ],
    )
    ratings = {
        "near": ("oms", near["id"], "S1", 2),
        "far": ("oms", far["id"], "S2", 5),
        "stranger": ("oms", "ord_other", "S1", 1),
    }
    write_lake(
        shop,
        "ratings",
        [
            {
                "source": "app",
                "rating_id": f"{name}-{person_id}",
                "order_source": source,
                "order_id": order_id,
                "store_id": store,
                "stars": stars,
            }
            for name, (source, order_id, store, stars) in ratings.items()
        ],
    )
    return {
        "person_id": person_id,
        "membership_id": membership["id"],
        "near": near["id"],
        "far": far["id"],
        "codes": codes,
    }


def view(shop: Shop, person_id: str, role: str, status: int = 200) -> Any:
    response = shop.get(f"/service/persons/{person_id}", role=role)
    assert response.status_code == status, response.text
    return response.json()


def test_an_agent_sees_balances_coupons_orders_complaints_and_what_can_be_done(
    shop: Shop, member: dict[str, Any]
) -> None:
    person_id = member["person_id"]
    seen = view(shop, person_id, "service_agent")
    assert seen["person_id"] == person_id
    (membership,) = seen["memberships"]
    # 2 lattes (6,000) less the welcome coupon (500), paid from 11,000 of wallet; 55 points earned.
    balances = membership["balances"]
    assert balances["wallet_principal_minor"] + balances["wallet_bonus_minor"] == 11_000 - 5_500
    assert balances["points"] == 55

    orders = {o["id"]: o for o in seen["orders"]}
    assert seen["orders_count"] == 2 and list(orders) == [member["far"], member["near"]]
    assert orders[member["near"]]["refundable"] and not orders[member["far"]]["refundable"]
    assert orders[member["near"]]["wallet_minor"] == 5_500
    assert [r["amount_minor"] for r in orders[member["far"]]["refunds"]] == [8_000]

    coupons = {c["template_id"]: c for c in seen["coupons"]}
    assert coupons["welcome_5_off"]["status"] == "redeemed"
    assert not coupons["welcome_5_off"]["reissuable"]
    assert coupons["size_up"]["reissuable"] and coupons["size_up"]["replaced_by"] is None

    complaints = {c["complaint_id"].split("-")[0] for c in seen["complaints"]}
    assert complaints == {"about_near", "by_record", "about_history"}
    assert sorted(r["stars"] for r in seen["ratings"]) == [2, 5]

    # The agent acts through the ordinary endpoints; the view follows.
    code = member["codes"]["size_up"]
    fresh = shop.ok(
        shop.post(f"/coupons/{code}/reissue", {"reason": "app crash"}, role="service_agent"), 201
    )
    shop.ok(
        shop.post(f"/orders/{member['near']}/refunds", {"reason": "late"}, role="service_agent"),
        201,
    )
    after = view(shop, person_id, "service_agent")
    coupons = {c["id"]: c for c in after["coupons"]}
    assert coupons[code]["replaced_by"] == fresh["id"] and not coupons[code]["reissuable"]
    assert coupons[fresh["id"]]["reissuable"]
    assert not any(o["refundable"] for o in after["orders"])
    # The refund gave the wallet and the coupon back, and took the points.
    balances = after["memberships"][0]["balances"]
    assert balances["wallet_principal_minor"] + balances["wallet_bonus_minor"] == 11_000
    assert balances["points"] == 0
    assert coupons[member["codes"]["welcome_5_off"]]["status"] == "issued"


def test_each_role_sees_the_sections_it_may_read(shop: Shop, member: dict[str, Any]) -> None:
    person_id = member["person_id"]
    by_analyst = view(shop, person_id, "analyst")
    assert len(by_analyst["orders"]) == 2 and not any(o["refundable"] for o in by_analyst["orders"])
    assert not any(c["reissuable"] for c in by_analyst["coupons"])
    by_marketer = view(shop, person_id, "marketer")
    assert by_marketer["orders"] is None and by_marketer["orders_count"] is None
    assert len(by_marketer["memberships"]) == 1
    problem(
        shop.get(f"/service/persons/{person_id}", role="channel"), 403, "auth.permission_denied"
    )
    problem(shop.get("/service/persons/P-nobody", role="service_agent"), 404, "person.unknown")


def test_a_store_manager_sees_only_their_stores(shop: Shop, member: dict[str, Any]) -> None:
    person_id = member["person_id"]
    seen = view(shop, person_id, "manager")
    assert seen["memberships"] is None and seen["coupons"] is None
    assert [o["id"] for o in seen["orders"]] == [member["near"]]
    assert seen["orders_count"] == 1 and not seen["orders"][0]["refundable"]
    assert {c["store_id"] for c in seen["complaints"]} == {"S1"}
    assert {c["complaint_id"].split("-")[0] for c in seen["complaints"]} == {
        "about_near",
        "about_history",
    }
    assert [r["stars"] for r in seen["ratings"]] == [2]
    problem(
        shop.get(f"/service/persons/{person_id}", role="far_manager"),
        404,
        "identity.person_not_found",
    )
