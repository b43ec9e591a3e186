"""The console's create-sale form: its fields as typed, and the :class:`SaleDraft` they describe.

Times are entered in UTC, as the console shows every time; prices in major units (9.90) and turned
into integer minor units exactly, through Decimal; person ids one per line (or separated by commas
or spaces). A value that cannot be read is refused as ``flashsale.bad_request`` naming its field,
as the domain refuses the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from newretail.errors import InvalidInput
from newretail.flashsale import Eligibility, SaleDraft, SaleItem
from newretail.model.codes import CHANNELS
from newretail.web.money import exponent

ITEM_ROWS = 3
CURRENCIES = ("CNY", "SGD")
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class SaleForm:
    """What the visitor typed, kept as text so a refused form comes back as it was sent."""

    name: str = ""
    sale_id: str = ""
    starts_at: str = ""
    minutes: str = "60"
    per_person_limit: str = "1"
    payment_window_seconds: str = "900"
    channels: list[str] = field(default_factory=lambda: ["app", "mini_program"])
    eligibility: str = Eligibility.EVERYONE.value
    person_ids: str = ""
    audience_id: str = ""
    currency: str = "CNY"
    skus: list[str] = field(default_factory=lambda: [""] * ITEM_ROWS)
    stocks: list[str] = field(default_factory=lambda: [""] * ITEM_ROWS)
    prices: list[str] = field(default_factory=lambda: [""] * ITEM_ROWS)

    @classmethod
    def starting(cls, now: dt.datetime) -> SaleForm:
        """A blank form whose sale starts at the next full hour."""
        start = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        return cls(starts_at=(start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))

    def draft(self) -> SaleDraft:
        """The sale this form describes; :class:`InvalidInput` naming the first unreadable field."""
        starts = _time(self.starts_at)
        eligibility = _choice("eligibility", self.eligibility, tuple(e.value for e in Eligibility))
        return SaleDraft(
            id=self.sale_id.strip() or None,
            name=self.name,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=_whole("minutes", self.minutes)),
            per_person_limit=_whole("per_person_limit", self.per_person_limit),
            payment_window_seconds=_whole("payment_window_seconds", self.payment_window_seconds),
            channels=[_choice("channels", c, CHANNELS) for c in self.channels],
            items=self._items(),
            eligibility=Eligibility(eligibility),
            audience_id=self.audience_id.strip() or None,
            eligible_person_ids=[p for p in _SEPARATORS.split(self.person_ids) if p],
        )

    def _items(self) -> list[SaleItem]:
        currency = _choice("currency", self.currency, CURRENCIES)
        items = []
        for sku, stock, price in zip(self.skus, self.stocks, self.prices, strict=True):
            if not (sku.strip() or stock.strip() or price.strip()):
                continue  # an unused row
            items.append(
                SaleItem(
                    sku.strip(),
                    _whole("items", stock),
                    _minor("items", price, currency),
                    currency,
                )
            )
        return items


def _time(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidInput(
            "flashsale.bad_request", "give the start as a date and time", field="starts_at"
        ) from None


def _whole(name: str, text: str) -> int:
    if not text.strip().isdigit():
        raise InvalidInput("flashsale.bad_request", "give a whole number", field=name)
    return int(text.strip())


def _minor(name: str, text: str, currency: str) -> int:
    try:
        minor = Decimal(text.strip()).scaleb(exponent(currency))
    except InvalidOperation:
        minor = Decimal("NaN")
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise InvalidInput(
            "flashsale.bad_request",
            f"give the price in {currency} with at most {exponent(currency)} decimals",
            field=name,
        )
    return int(minor)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(
            "flashsale.bad_request", f"choose one of {', '.join(allowed)}", field=name
        )
    return value
