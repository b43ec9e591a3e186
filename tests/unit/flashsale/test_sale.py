"""A sale draft is refused with ``flashsale.bad_request`` and the offending field, or becomes a sale."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from newretail.errors import InvalidInput
from newretail.flashsale import Eligibility, SaleDraft, SaleItem, SaleStatus

START = dt.datetime(2026, 11, 11, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
GOOD = SaleDraft(
    id="double-11",
    name=" Double 11 ",
    starts_at=START,
    ends_at=START + dt.timedelta(hours=2),
    per_person_limit=2,
    payment_window_seconds=900,
    channels=["app", "wechat_mini", "app"],
    items=[SaleItem("SKU-1", 1000, 990, "CNY"), SaleItem("SKU-2", 10, 0, "CNY")],
)


def test_a_good_draft_becomes_a_draft_sale_in_utc() -> None:
    sale = GOOD.validate()
    assert (sale.id, sale.name, sale.status) == ("double-11", "Double 11", SaleStatus.DRAFT)
    assert sale.starts_at == dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC)
    assert sale.starts_at.tzinfo == dt.UTC
    assert sale.channels == ("app", "wechat_mini")
    assert sale.eligibility is Eligibility.EVERYONE
    assert len(sale.items) == 2


def test_a_sale_without_an_id_gets_one() -> None:
    first = dataclasses.replace(GOOD, id=None).validate().id
    second = dataclasses.replace(GOOD, id=None).validate().id
    assert first.startswith("fs-") and first != second


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "has space"}, "id"),
        ({"id": "x" * 41}, "id"),
        ({"name": "  "}, "name"),
        ({"starts_at": START.replace(tzinfo=None)}, "starts_at"),
        ({"ends_at": START}, "ends_at"),
        ({"per_person_limit": 0}, "per_person_limit"),
        ({"per_person_limit": 2.0}, "per_person_limit"),
        ({"per_person_limit": True}, "per_person_limit"),
        ({"payment_window_seconds": 0}, "payment_window_seconds"),
        ({"channels": []}, "channels"),
        ({"channels": ["App"]}, "channels"),
        ({"items": []}, "items"),
        ({"items": [SaleItem("A", 1, 1, "CNY"), SaleItem("A", 1, 1, "CNY")]}, "items"),
        ({"items": [SaleItem("A", 1, 9.9, "CNY")]}, "items"),  # type: ignore[arg-type]
        ({"items": [SaleItem("A", 1, -1, "CNY")]}, "items"),
        ({"items": [SaleItem("A", 0, 1, "CNY")]}, "items"),
        ({"items": [SaleItem("A", 1, 1, "yuan")]}, "items"),
        ({"items": [SaleItem("A|B", 1, 1, "CNY")]}, "items"),
        ({"eligibility": "friends"}, "eligibility"),
        ({"eligibility": Eligibility.AUDIENCE}, "audience_id"),
        ({"audience_id": "aud-1"}, "audience_id"),
        ({"eligible_person_ids": ["p1"]}, "eligible_person_ids"),
        (
            {"eligibility": Eligibility.LIST, "eligible_person_ids": ["p1", "bad id"]},
            "eligible_person_ids",
        ),
    ],
)
def test_bad_drafts_are_refused_with_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(GOOD, **change).validate()
    assert (caught.value.code, caught.value.field) == ("flashsale.bad_request", field)
    assert caught.value.http_status == 422


def test_list_and_audience_sales() -> None:
    listed = dataclasses.replace(
        GOOD, eligibility=Eligibility.LIST, eligible_person_ids=["p1", "p2"]
    ).validate()
    assert listed.eligibility is Eligibility.LIST
    audience = dataclasses.replace(
        GOOD, eligibility=Eligibility.AUDIENCE, audience_id="aud-1"
    ).validate()
    assert audience.audience_id == "aud-1"
