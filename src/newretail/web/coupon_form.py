"""The console's create-template form: its fields as typed, and the :class:`TemplateDraft` they describe
or the problems to show beside each field.

Amounts are typed in major units (10, 9.90) and turned into integer minor units exactly, through
Decimal; times are UTC, as the console shows every time; stores, products and categories are listed
one per line or separated by commas. What the form cannot read is reported per field; the rest is the
domain's to refuse (``coupon_templates.parse_draft``), and its refusal lands on the field it names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from newretail.errors import InvalidInput
from newretail.loyalty.coupon_templates import TemplateDraft, parse_draft
from newretail.web.money import exponent

KINDS = ("amount_off", "percent_off", "free_item", "size_upgrade")
CURRENCIES = ("CNY", "SGD")
# Refusals the form explains in words (coupon_error.<code>); any other shows the domain's text.
KNOWN_ERRORS = (
    "coupon_form.bad_money",
    "coupon_form.bad_number",
    "coupon_form.bad_time",
    "coupon_template.amount_required",
    "coupon_template.percent_required",
    "coupon_template.target_required",
    "coupon_template.validity_required",
    "coupon_template.bad_window",
    "coupon_template.field_not_for_kind",
    "coupon_template.unknown_currency",
    "coupon_template.unknown_channel",
    "coupon_template.exists",
)
# The domain's field names, as the form names them.
_FORM_FIELDS = {
    "id": "template_id",
    "amount_off_minor": "amount_off",
    "threshold_minor": "threshold",
    "cap_minor": "cap",
    "scope.channels": "channels",
    "scope.stores": "stores",
    "scope.products": "products",
    "scope.categories": "categories",
}
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class FieldError:
    code: str
    message: str


@dataclass
class TemplateForm:
    """What the visitor typed, kept as text so a refused form comes back as it was sent."""

    template_id: str = ""
    name: str = ""
    name_en: str = ""
    kind: str = "amount_off"
    currency: str = "CNY"
    amount_off: str = ""
    threshold: str = ""
    percent_off: str = ""
    cap: str = ""
    target_product_id: str = ""
    target_category: str = ""
    channels: list[str] = field(default_factory=list)
    stores: str = ""
    products: str = ""
    categories: str = ""
    valid_from: str = ""
    valid_until: str = ""
    valid_days: str = "14"
    budget_total: str = ""
    per_person_limit: str = ""
    stacks_with_tier: bool = True

    def draft(self) -> tuple[TemplateDraft | None, dict[str, FieldError]]:
        """The draft, or None and the problems by form field (every unreadable field, then the
        domain's first refusal)."""
        errors: dict[str, FieldError] = {}
        data: dict[str, object] = {
            "id": self.template_id.strip(),
            "name": self.name,
            "name_en": self.name_en,
            "kind": self.kind,
            "currency": self.currency,
            "stacks_with_tier": self.stacks_with_tier,
        }
        for name in ("amount_off", "threshold", "cap"):
            self._read(data, errors, name, f"{name}_minor", self._minor)
        for name in ("percent_off", "valid_days", "budget_total", "per_person_limit"):
            self._read(data, errors, name, name, _whole)
        for name in ("valid_from", "valid_until"):
            self._read(data, errors, name, name, _time)
        for name in ("target_product_id", "target_category"):
            text = getattr(self, name).strip()
            if text:
                data[name] = text
        data["scope"] = {
            "channels": list(self.channels),
            "stores": _items(self.stores),
            "products": _items(self.products),
            "categories": _items(self.categories),
        }
        if errors:
            return None, errors
        try:
            return parse_draft(data), {}
        except InvalidInput as refusal:
            return None, {form_field(refusal.field): FieldError(refusal.code, refusal.message)}

    def _read(
        self,
        data: dict[str, object],
        errors: dict[str, FieldError],
        name: str,
        key: str,
        read: Callable[[str], object],
    ) -> None:
        text = str(getattr(self, name)).strip()
        if not text:
            return
        try:
            data[key] = read(text)
        except InvalidInput as refusal:
            errors[name] = FieldError(refusal.code, refusal.message)

    def _minor(self, text: str) -> int:
        places = exponent(self.currency if self.currency in CURRENCIES else "CNY")
        try:
            minor = Decimal(text).scaleb(places)
        except InvalidOperation:
            minor = Decimal("NaN")
        if not minor.is_finite() or minor != minor.to_integral_value() or minor < 0:
            raise InvalidInput("coupon_form.bad_money", f"an amount with at most {places} decimals")
        return int(minor)


def form_field(domain_field: str | None) -> str:
    """The form field a domain refusal names (``scope.stores.0`` -> ``stores``); "" for none."""
    if not domain_field:
        return ""
    parts = domain_field.split(".")
    head = ".".join(parts[:2]) if parts[0] == "scope" else parts[0]
    return _FORM_FIELDS.get(head, head)


def _whole(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput("coupon_form.bad_number", "a whole number")
    return int(text)


def _time(text: str) -> str:
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).isoformat()
    except ValueError:
        raise InvalidInput("coupon_form.bad_time", "a date and time (UTC)") from None


def _items(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(text) if item]
