"""Coupon template drafts: what each kind needs, what it refuses, and the stable code and field of
each refusal; the demo templates are valid drafts; validity and codes of issued coupons."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from newretail.errors import InvalidInput
from newretail.loyalty.coupon_issue import new_codes, validity
from newretail.loyalty.coupon_templates import (
    DEMO_TEMPLATES,
    CouponScope,
    CouponTemplate,
    TemplateDraft,
    parse_draft,
)

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def data(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "spring_5_off",
        "name": "春季满20减5",
        "name_en": "Spring: 5 off 20",
        "kind": "amount_off",
        "currency": "CNY",
        "amount_off_minor": 500,
        "threshold_minor": 2000,
        "valid_days": 14,
    }
    base.update(change)
    return {key: value for key, value in base.items() if value is not None}


def refusal(**change: Any) -> tuple[str, str | None]:
    with pytest.raises(InvalidInput) as caught:
        parse_draft(data(**change))
    return caught.value.code, caught.value.field


def test_each_kind_accepts_what_it_needs() -> None:
    assert parse_draft(data()).amount_off_minor == 500
    assert parse_draft(data(threshold_minor=None)).threshold_minor is None
    percent = parse_draft(
        data(kind="percent_off", amount_off_minor=None, threshold_minor=None, percent_off=20)
    )
    assert (percent.percent_off, percent.cap_minor) == (20, None)
    capped = parse_draft(
        data(
            kind="percent_off",
            amount_off_minor=None,
            threshold_minor=None,
            percent_off=99,
            cap_minor=1000,
        )
    )
    assert capped.cap_minor == 1000
    free = parse_draft(
        data(
            kind="free_item", amount_off_minor=None, threshold_minor=None, target_category="coffee"
        )
    )
    assert (free.target_category, free.target_product_id) == ("coffee", None)
    product = parse_draft(
        data(
            kind="free_item", amount_off_minor=None, threshold_minor=None, target_product_id="P002"
        )
    )
    assert product.target_product_id == "P002"
    size = parse_draft(data(kind="size_upgrade", amount_off_minor=None, threshold_minor=None))
    assert size.kind == "size_upgrade"
    assert size.stacks_with_tier is True
    assert size.scope == CouponScope()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount_off_minor": None}, "coupon_template.amount_required", "amount_off_minor"),
        ({"amount_off_minor": 0}, "coupon_template.invalid", "amount_off_minor"),
        ({"threshold_minor": -1}, "coupon_template.invalid", "threshold_minor"),
        ({"percent_off": 10}, "coupon_template.field_not_for_kind", "percent_off"),
        (
            {"kind": "percent_off", "amount_off_minor": None, "threshold_minor": None},
            "coupon_template.percent_required",
            "percent_off",
        ),
        (
            {
                "kind": "percent_off",
                "amount_off_minor": None,
                "threshold_minor": None,
                "percent_off": 100,
            },
            "coupon_template.invalid",
            "percent_off",
        ),
        (
            {
                "kind": "percent_off",
                "amount_off_minor": None,
                "threshold_minor": None,
                "percent_off": 0,
            },
            "coupon_template.invalid",
            "percent_off",
        ),
        (
            {"kind": "percent_off", "amount_off_minor": None, "percent_off": 10},
            "coupon_template.field_not_for_kind",
            "threshold_minor",
        ),
        (
            {"kind": "free_item", "amount_off_minor": None, "threshold_minor": None},
            "coupon_template.target_required",
            "target_product_id",
        ),
        (
            {
                "kind": "free_item",
                "amount_off_minor": None,
                "threshold_minor": None,
                "target_product_id": "P001",
                "target_category": "coffee",
            },
            "coupon_template.target_required",
            "target_product_id",
        ),
        (
            {"kind": "size_upgrade", "threshold_minor": None},
            "coupon_template.field_not_for_kind",
            "amount_off_minor",
        ),
        ({"valid_days": None}, "coupon_template.validity_required", "valid_days"),
        ({"valid_days": 0}, "coupon_template.invalid", "valid_days"),
        (
            {
                "valid_days": None,
                "valid_from": "2025-03-10T00:00:00Z",
                "valid_until": "2025-03-01T00:00:00Z",
            },
            "coupon_template.bad_window",
            "valid_until",
        ),
        (
            {"valid_days": None, "valid_until": "2025-03-10T00:00:00"},
            "coupon_template.invalid",
            "valid_until",
        ),
        ({"currency": "USD"}, "coupon_template.unknown_currency", "currency"),
        (
            {"scope": {"channels": ["wechat_mini"]}},
            "coupon_template.unknown_channel",
            "scope.channels",
        ),
        ({"scope": {"regions": ["east"]}}, "coupon_template.invalid", "scope.regions"),
        ({"id": "Has Spaces"}, "coupon_template.invalid", "id"),
        ({"name": "  "}, "coupon_template.invalid", "name"),
        ({"budget_total": 0}, "coupon_template.invalid", "budget_total"),
        ({"per_person_limit": 0}, "coupon_template.invalid", "per_person_limit"),
        ({"colour": "red"}, "coupon_template.invalid", "colour"),
    ],
)
def test_bad_drafts_are_refused_with_a_code_and_field(
    change: dict[str, Any], code: str, field: str
) -> None:
    assert refusal(**change) == (code, field)


def test_a_window_alone_is_a_validity_and_times_become_utc() -> None:
    draft = parse_draft(
        data(
            valid_days=None,
            valid_from="2025-03-01T08:00:00+08:00",
            valid_until="2025-04-01T00:00:00+08:00",
        )
    )
    assert draft.valid_from == dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
    assert draft.valid_until is not None
    assert draft.valid_until.utcoffset() == dt.timedelta(0)


def test_scope_lists_drop_repeats() -> None:
    draft = parse_draft(data(scope={"channels": ["app", "app", "pos"], "stores": ["S1", "S1"]}))
    assert draft.scope.channels == ["app", "pos"]
    assert draft.scope.stores == ["S1"]


def test_the_demo_templates_are_valid_and_cover_every_kind() -> None:
    ids = [draft.id for draft in DEMO_TEMPLATES]
    assert len(set(ids)) == len(ids)
    assert {draft.kind for draft in DEMO_TEMPLATES} == {
        "amount_off",
        "percent_off",
        "free_item",
        "size_upgrade",
    }
    assert {draft.currency for draft in DEMO_TEMPLATES} == {"CNY", "SGD"}
    for draft in DEMO_TEMPLATES:
        assert TemplateDraft.model_validate(draft.model_dump()) == draft


def template(**change: Any) -> CouponTemplate:
    base: dict[str, Any] = {
        "id": "t",
        "name": "t",
        "name_en": "t",
        "kind": "size_upgrade",
        "currency": "CNY",
        "amount_off_minor": None,
        "threshold_minor": None,
        "percent_off": None,
        "cap_minor": None,
        "target": None,
        "scope": CouponScope(),
        "valid_from": None,
        "valid_until": None,
        "valid_days": None,
        "budget_total": None,
        "per_person_limit": None,
        "issued_count": 0,
        "stacks_with_tier": True,
        "status": "active",
        "created_by": "test",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(change)
    return CouponTemplate(**base)


def test_validity_is_the_earlier_of_days_from_issue_and_the_window_end() -> None:
    days = dt.timedelta(days=7)
    assert validity(template(valid_days=7), NOW) == (NOW, NOW + days)
    assert validity(template(valid_until=NOW + dt.timedelta(days=3)), NOW) == (
        NOW,
        NOW + dt.timedelta(days=3),
    )
    assert validity(template(valid_days=7, valid_until=NOW + dt.timedelta(days=3)), NOW)[1] == (
        NOW + dt.timedelta(days=3)
    )
    # Issued before the window opens: valid from the opening, days counted from there.
    opens = NOW + dt.timedelta(days=2)
    assert validity(template(valid_days=7, valid_from=opens), NOW) == (opens, opens + days)


def test_codes_are_16_unambiguous_characters_and_do_not_repeat() -> None:
    codes = set(new_codes(10_000)) | set(new_codes(1))
    assert len(codes) == 10_001
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{16}", code) for code in codes)
