"""Figures for display: money from integer minor units through Decimal (never float), counts and
changes. Amounts are always formatted in their own currency; nothing here adds currencies.

>>> format_money(123456789, "CNY")
'¥1,234,567.89'
>>> format_money(Decimal("1387.5"), "SGD")
'S$13.88'
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Digits after the decimal point (ISO 4217) and the symbol of each currency the chain trades in.
_EXPONENTS = {"CNY": 2, "SGD": 2}
_SYMBOLS = {"CNY": "¥", "SGD": "S$"}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def to_major(minor: int | Decimal, currency: str) -> Decimal:
    """Minor units (fen, cents) as an exact amount in major units, rounded half up to the cent."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def format_money(minor: int | Decimal, currency: str) -> str:
    amount = to_major(minor, currency)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,}"


def format_count(count: int) -> str:
    return f"{count:,}"


def percent(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole`` to one decimal (0 when ``whole`` is 0)."""
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def change(current: int | Decimal, previous: int | Decimal | None) -> Decimal | None:
    """Relative change in percent to one decimal; None when there is nothing to compare with."""
    if previous is None or previous == 0:
        return None
    ratio = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    return ratio.quantize(Decimal("0.1"), ROUND_HALF_UP)
