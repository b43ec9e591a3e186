"""Scheme rules: a sound scheme validates, and each kind of bad rule is refused with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from newretail.errors import InvalidInput
from newretail.loyalty.demo_schemes import DEMO_SCHEMES
from newretail.loyalty.rules import SchemeDraft, parse_draft, parse_rules


def scheme(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "tea_club",
        "name": "茶会员",
        "name_en": "Tea Club",
        "kind": "free",
        "currency": "CNY",
        "rules": {
            "channels": ["app", "pos"],
            "tier_metric": "spend",
            "tiers": [
                {"id": "member", "name": "会员", "name_en": "Member", "threshold": 0},
                {
                    "id": "gold",
                    "name": "金卡",
                    "name_en": "Gold",
                    "threshold": 100_000,
                    "discount_percent": 5,
                },
            ],
            "earn": {"minor_per_point": 100, "expiry_months": 12},
            "wallet": {
                "topup_bonus": [{"min_topup_minor": 10_000, "bonus_minor": 1_000}],
                "max_balance_minor": 500_000,
            },
        },
    }
    base.update(change)
    return base


def with_rules(**change: Any) -> dict[str, Any]:
    data = scheme()
    data["rules"] = {**data["rules"], **change}
    return data


def refused(data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_draft(data)
    assert caught.value.code == "loyalty.bad_scheme"
    return caught.value


def test_a_sound_scheme_validates_with_defaults_filled_in() -> None:
    draft = parse_draft(scheme())
    assert draft.active is True
    assert draft.rules.tier_window_days == 365
    assert draft.rules.tier_ids() == ["member", "gold"]
    assert draft.rules.tiers[0].points_multiplier_percent == 100
    assert draft.rules.earn.excluded_categories == []
    assert draft.rules.paid is None


def test_rules_round_trip_through_json() -> None:
    draft = parse_draft(scheme())
    assert parse_rules(draft.rules.model_dump(mode="json")) == draft.rules


def test_the_shipped_demo_schemes_are_valid() -> None:
    ids = [d.id for d in DEMO_SCHEMES]
    assert ids == ["coffee_club", "coffee_club_sg", "paid_annual"]
    for draft in DEMO_SCHEMES:
        assert SchemeDraft.model_validate(draft.model_dump(mode="json")) == draft


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([{"id": "a", "name": "A", "name_en": "A", "threshold": 10}], "rules.tiers"),
        (
            [
                {"id": "a", "name": "A", "name_en": "A", "threshold": 0},
                {"id": "b", "name": "B", "name_en": "B", "threshold": 500},
                {"id": "c", "name": "C", "name_en": "C", "threshold": 500},
            ],
            "rules.tiers",
        ),
        (
            [
                {"id": "a", "name": "A", "name_en": "A", "threshold": 0},
                {"id": "a", "name": "A2", "name_en": "A2", "threshold": 500},
            ],
            "rules.tiers",
        ),
        ([], "rules.tiers"),
        (
            [{"id": "a", "name": "A", "name_en": "A", "threshold": 0, "discount_percent": 51}],
            "rules.tiers[0].discount_percent",
        ),
        (
            [{"id": "a", "name": "A", "name_en": "A", "threshold": 0, "discount_percent": -1}],
            "rules.tiers[0].discount_percent",
        ),
        ([{"id": "Gold!", "name": "A", "name_en": "A", "threshold": 0}], "rules.tiers[0].id"),
        ([{"id": "a", "name": " ", "name_en": "A", "threshold": 0}], "rules.tiers[0].name"),
    ],
    ids=[
        "first-not-zero",
        "not-ascending",
        "duplicate-id",
        "empty",
        "discount-too-deep",
        "negative-discount",
        "bad-id",
        "blank-name",
    ],
)
def test_a_bad_ladder_is_refused(tiers: list[dict[str, Any]], field: str) -> None:
    assert refused(with_rules(tiers=tiers)).field == field


def test_unknown_channels_are_refused() -> None:
    assert refused(with_rules(channels=["app", "wechat_mini"])).field == "rules.channels"
    assert refused(with_rules(channels=["app", "app"])).field == "rules.channels"
    assert refused(with_rules(channels=[])).field == "rules.channels"


def test_earn_rules_are_checked() -> None:
    earn: dict[str, Any] = {"minor_per_point": 0, "expiry_months": 12}
    assert refused(with_rules(earn=earn)).field == "rules.earn.minor_per_point"
    earn = {"minor_per_point": 100, "expiry_months": 0}
    assert refused(with_rules(earn=earn)).field == "rules.earn.expiry_months"
    earn = {"minor_per_point": 100, "expiry_months": 12, "channel_multiplier_percent": {"fax": 200}}
    assert refused(with_rules(earn=earn)).field == "rules.earn.channel_multiplier_percent"
    # A known channel the scheme does not cover.
    earn = {"minor_per_point": 100, "expiry_months": 12, "channel_multiplier_percent": {"tmall": 2}}
    assert "tmall" in refused(with_rules(earn=earn)).message
    earn = {"minor_per_point": 100, "expiry_months": 12, "excluded_categories": ["food", "food"]}
    assert refused(with_rules(earn=earn)).field == "rules.earn.excluded_categories"
    earn = {"minor_per_point": 100, "expiry_months": 12, "category_multiplier_percent": {"x": -5}}
    assert refused(with_rules(earn=earn)).field == "rules.earn.category_multiplier_percent.x"


def test_wallet_bonuses_must_climb_and_stay_below_the_top_up() -> None:
    def wallet(*steps: tuple[int, int], cap: int = 500_000) -> dict[str, Any]:
        return {
            "topup_bonus": [{"min_topup_minor": m, "bonus_minor": b} for m, b in steps],
            "max_balance_minor": cap,
        }

    assert parse_draft(with_rules(wallet=wallet((10_000, 1_000), (30_000, 4_000))))
    assert refused(with_rules(wallet=wallet((30_000, 4_000), (10_000, 1_000)))).field == (
        "rules.wallet.topup_bonus"
    )
    assert refused(with_rules(wallet=wallet((10_000, 2_000), (30_000, 1_000)))).field == (
        "rules.wallet.topup_bonus"
    )
    assert refused(with_rules(wallet=wallet((1_000, 1_000)))).field == (
        "rules.wallet.topup_bonus[0]"
    )
    assert refused(with_rules(wallet=wallet((10_000, 1_000), cap=5_000))).field == "rules.wallet"


def test_paid_rules_go_with_a_paid_scheme() -> None:
    paid = {
        "price_minor": 19_900,
        "monthly_vouchers": [{"template_id": "paid_monthly_10_off", "count": 2}],
    }
    data = with_rules(paid=paid)
    data["kind"] = "paid"
    draft = parse_draft(data)
    assert draft.rules.paid is not None and draft.rules.paid.period_months == 12
    refused({**data, "kind": "free"})
    refused({**with_rules(), "kind": "paid"})
    twice = copy.deepcopy(data)
    twice["rules"]["paid"]["monthly_vouchers"].append({"template_id": "paid_monthly_10_off"})
    assert refused(twice).field == "rules.paid.monthly_vouchers"
    free = copy.deepcopy(data)
    free["rules"]["paid"]["price_minor"] = 0
    assert refused(free).field == "rules.paid.price_minor"


def test_scheme_fields_are_checked() -> None:
    assert refused(scheme(currency="USD")).field == "currency"
    assert refused(scheme(id="Tea Club")).field == "id"
    assert refused(scheme(kind="vip")).field == "kind"
    assert refused(scheme(colour="green")).field == "colour"
    error = refused(scheme(name="", name_en=""))
    assert error.field == "name" and "and 1 more" in error.message


def test_stored_rules_that_no_longer_validate_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rules({"channels": ["app"], "tier_metric": "visits"})
    assert caught.value.field is not None and caught.value.field.startswith("rules.")
