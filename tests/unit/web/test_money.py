"""Money from integer minor units with Decimal: exact, rounded half up, per currency."""

from __future__ import annotations

from decimal import Decimal

from newretail.web.money import change, format_count, format_money, percent, to_major


def test_minor_units_become_exact_amounts() -> None:
    assert to_major(10, "CNY") == Decimal("0.10")
    assert format_money(123456789, "CNY") == "¥1,234,567.89"
    assert format_money(5, "SGD") == "S$0.05"
    assert format_money(-1999, "CNY") == "-¥19.99"
    assert format_money(100, "EUR") == "EUR 1.00"


def test_a_basket_rounds_half_up_to_the_cent() -> None:
    assert format_money(Decimal(5550) / 4, "CNY") == "¥13.88"
    assert format_money(Decimal(1) / 3, "CNY") == "¥0.00"


def test_no_float_rounding_creeps_in() -> None:
    # 0.1 + 0.2 style errors: 2,000,000,000,000.01 survives exactly.
    assert format_money(200_000_000_000_001, "CNY") == "¥2,000,000,000,000.01"


def test_counts_shares_and_changes() -> None:
    assert format_count(1234567) == "1,234,567"
    assert percent(1, 3) == Decimal("33.3")
    assert percent(5, 0) == Decimal(0)
    assert change(110, 100) == Decimal("10.0")
    assert change(90, 100) == Decimal("-10.0")
    assert change(5, 0) is None
    assert change(5, None) is None
