"""A flash sale as the merchant defines it: window, per-person limit, payment window, channels,
eligibility and items priced in integer minor units; :meth:`SaleDraft.validate` refuses bad input.

Identifiers that travel through the engines' records (sale id, SKU, person id) are limited to a safe
alphabet, so a record can be split on ``|`` without escaping.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from newretail.errors import InvalidInput

SALE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
ITEM_OR_PERSON_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
_CHANNEL = re.compile(r"[a-z0-9_]{1,32}")
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_LIMIT = 100
MAX_STOCK = 10_000_000
MAX_WINDOW_SECONDS = 7 * 86_400


class Eligibility(StrEnum):
    """Who may buy: anyone, the persons of an uploaded list, or an audience resolved when armed."""

    EVERYONE = "everyone"
    LIST = "list"
    AUDIENCE = "audience"


SalePhase = Literal["draft", "scheduled", "open", "ended"]


class SaleStatus(StrEnum):
    """``draft`` until armed; ``armed`` once its stock and eligible set are in the engine."""

    DRAFT = "draft"
    ARMED = "armed"


@dataclass(frozen=True, slots=True)
class SaleItem:
    """One SKU on sale: units for sale and the unit price in minor units (fen, cents) of ``currency``."""

    sku: str
    stock: int
    price_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Sale:
    """A stored sale. ``per_person_limit`` counts units across all its items."""

    id: str
    name: str
    status: SaleStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    per_person_limit: int
    payment_window_seconds: int
    channels: tuple[str, ...]
    eligibility: Eligibility
    audience_id: str | None
    items: tuple[SaleItem, ...]
    closed_at: dt.datetime | None = None  # set when ended early; ``ends_at`` is then that time

    def phase(self, now: dt.datetime) -> SalePhase:
        """Where the sale stands at ``now``: a draft, armed and waiting to open, open, or over."""
        if self.status is SaleStatus.DRAFT:
            return "draft"
        if now < self.starts_at:
            return "scheduled"
        return "open" if now < self.ends_at else "ended"


@dataclass(frozen=True, slots=True)
class SaleDraft:
    """A sale as submitted; ``eligible_person_ids`` is the uploaded list when eligibility is ``list``.

    >>> SaleDraft(
    ...     name="Double 11", starts_at=start, ends_at=start + dt.timedelta(hours=1),
    ...     per_person_limit=2, payment_window_seconds=900, channels=("app",),
    ...     items=(SaleItem("SKU-1", stock=1000, price_minor=990, currency="CNY"),),
    ... ).validate().id  # doctest: +SKIP
    'fs-3f9a0c1b2d4e'
    """

    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    per_person_limit: int
    payment_window_seconds: int
    channels: Sequence[str]
    items: Sequence[SaleItem]
    eligibility: Eligibility = Eligibility.EVERYONE
    audience_id: str | None = None
    eligible_person_ids: Sequence[str] = ()
    id: str | None = None

    def validate(self) -> Sale:
        """The sale this draft describes, or :class:`InvalidInput` ``flashsale.bad_request``."""
        sale_id = self.id if self.id is not None else f"fs-{secrets.token_hex(6)}"
        _require(SALE_ID.fullmatch(sale_id), "id", "use 1-40 letters, digits, '-' or '_'")
        _require(0 < len(self.name.strip()) <= 200, "name", "give a name of 1-200 characters")
        for name, value in (("starts_at", self.starts_at), ("ends_at", self.ends_at)):
            _require(value.tzinfo is not None, name, "give a time with a time zone")
        _require(self.ends_at > self.starts_at, "ends_at", "the sale must end after it starts")
        _require(
            _is_int(self.per_person_limit) and 0 < self.per_person_limit <= MAX_LIMIT,
            "per_person_limit",
            f"give a whole number from 1 to {MAX_LIMIT}",
        )
        _require(
            _is_int(self.payment_window_seconds)
            and 0 < self.payment_window_seconds <= MAX_WINDOW_SECONDS,
            "payment_window_seconds",
            f"give a whole number of seconds from 1 to {MAX_WINDOW_SECONDS}",
        )
        _require(
            bool(self.channels) and all(_CHANNEL.fullmatch(c) for c in self.channels),
            "channels",
            "name at least one channel in lower-case letters, digits or '_'",
        )
        self._check_eligibility()
        self._check_items()
        return Sale(
            id=sale_id,
            name=self.name.strip(),
            status=SaleStatus.DRAFT,
            starts_at=self.starts_at.astimezone(dt.UTC),
            ends_at=self.ends_at.astimezone(dt.UTC),
            per_person_limit=self.per_person_limit,
            payment_window_seconds=self.payment_window_seconds,
            channels=tuple(dict.fromkeys(self.channels)),
            eligibility=self.eligibility,
            audience_id=self.audience_id,
            items=tuple(self.items),
        )

    def _check_eligibility(self) -> None:
        _require(
            self.eligibility in tuple(Eligibility),
            "eligibility",
            "use everyone, list or audience",
        )
        is_audience = self.eligibility is Eligibility.AUDIENCE
        _require(
            (self.audience_id is not None) == is_audience,
            "audience_id",
            "give an audience id exactly when eligibility is audience",
        )
        if self.audience_id is not None:
            _require(
                ITEM_OR_PERSON_ID.fullmatch(self.audience_id), "audience_id", "not an audience id"
            )
        _require(
            not self.eligible_person_ids or self.eligibility is Eligibility.LIST,
            "eligible_person_ids",
            "a person list goes only with eligibility list",
        )
        for position, person_id in enumerate(self.eligible_person_ids):
            if not ITEM_OR_PERSON_ID.fullmatch(person_id):
                raise InvalidInput(
                    "flashsale.bad_request",
                    "not a person id",
                    field="eligible_person_ids",
                    position=str(position),
                )

    def _check_items(self) -> None:
        _require(bool(self.items), "items", "put at least one item on sale")
        skus = [item.sku for item in self.items]
        _require(len(set(skus)) == len(skus), "items", "each SKU may appear once")
        for position, item in enumerate(self.items):
            for ok, message in (
                (ITEM_OR_PERSON_ID.fullmatch(item.sku), "not a SKU"),
                (
                    _is_int(item.stock) and 0 < item.stock <= MAX_STOCK,
                    f"stock must be a whole number from 1 to {MAX_STOCK}",
                ),
                (
                    _is_int(item.price_minor) and item.price_minor >= 0,
                    "price_minor must be a whole number of minor units (fen, cents), not a float",
                ),
                (_CURRENCY.fullmatch(item.currency), "currency must be an ISO 4217 code"),
            ):
                if not ok:
                    raise InvalidInput(
                        "flashsale.bad_request", message, field="items", position=str(position)
                    )


def _is_int(value: object) -> bool:
    # bool is an int to Python, and a float of 9.9 yuan is exactly the mistake to refuse.
    return type(value) is int


def _require(ok: object, field: str, message: str) -> None:
    if not ok:
        raise InvalidInput("flashsale.bad_request", message, field=field)
