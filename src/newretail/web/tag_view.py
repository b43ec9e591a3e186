"""How the console shows tags: names and descriptions in the page's language, a value's label (enum
codes and yes/no translated where the catalogue of messages has them), a value with its unit (money
in its currency from integer minor units, percents, days...), and the tag list the expression
editor's picker embeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from newretail.tags.index import TagIndex
from newretail.tags.spec import TagSpec
from newretail.web.i18n import Language, catalogue, translate
from newretail.web.money import format_count, format_money

# Enum tags whose codes already have labels under another prefix.
_SHARED_LABELS = {
    "favourite_channel": "channel",
    "gender": "gender",
    "favourite_daypart": "daypart",
    "daypart_28d": "daypart",
}
MONEY_UNITS = ("minor",)
# Enum values the picker offers per tag (a chain's store ids can run to thousands).
MAX_VALUES = 200
# Units a number reads fine without (a score of 3, tier 2, month 4, hour 14).
BARE_UNITS = ("score", "tier", "month", "hour")


def tag_name(spec: TagSpec, language: Language) -> str:
    return spec.name_zh if language == "zh-CN" else spec.name_en


def tag_description(spec: TagSpec, language: Language) -> str:
    return spec.description_zh if language == "zh-CN" else spec.description_en


def unit_label(language: Language, unit: str | None) -> str:
    if not unit:
        return ""
    return _message(language, f"unit.{unit}") or unit


def value_label(language: Language, spec: TagSpec, value: object) -> str:
    """The label of a bool or enum value (``"true"``/``"false"`` count as bool); None is "no value"."""
    if value is None:
        return translate(language, "tags.no_value")
    if spec.value_type == "bool" and (isinstance(value, bool) or value in ("true", "false")):
        return translate(language, "bool.true" if value in (True, "true") else "bool.false")
    text = str(value)
    keys = [f"tagvalue.{spec.id}.{text}"]
    if spec.id in _SHARED_LABELS:
        keys.append(f"{_SHARED_LABELS[spec.id]}.{text}")
    return next((label for key in keys if (label := _message(language, key))), text)


def format_value(
    language: Language, spec: TagSpec, value: object, *, currency: str | None = None
) -> str:
    """A tag's value as text: "—" for none, dates in ISO, numbers with their unit; an amount in
    minor units is money when the currency is known."""
    if value is None:
        return "—"
    if spec.value_type in ("bool", "enum"):
        return value_label(language, spec, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, int):
        return str(value)
    if spec.unit in MONEY_UNITS and currency:
        return format_money(value, currency)
    if spec.unit == "percent":
        return f"{value}%"
    if spec.unit in BARE_UNITS:
        return format_count(value)
    unit = unit_label(language, spec.unit)
    return f"{format_count(value)} {unit}".strip()


def picker_entries(
    specs: Iterable[TagSpec], index: TagIndex | None, language: Language
) -> list[dict[str, object]]:
    """The tags the expression editor offers: only those the current snapshot holds (the others
    cannot be counted yet), with enum values and their labels."""
    computed = set(index.tag_ids) if index is not None else set()
    entries: list[dict[str, object]] = []
    for spec in specs:
        if spec.id not in computed or index is None:
            continue
        # The snapshot's own spec: a data-bound enum (cities, store ids) has its values there.
        values = list(index.spec(spec.id).values) or list(index.distribution(spec.id).counts)
        entries.append(
            {
                "id": spec.id,
                "name": tag_name(spec, language),
                "category": spec.category,
                "category_label": translate(language, f"tagcat.{spec.category}"),
                "type": spec.value_type,
                "type_label": translate(language, f"tagtype.{spec.value_type}"),
                "unit": unit_label(language, spec.unit),
                "values": [[v, value_label(language, spec, v)] for v in values[:MAX_VALUES]]
                if spec.value_type == "enum"
                else [],
            }
        )
    return entries


def _message(language: Language, key: str) -> str | None:
    return catalogue(language).get(key) or catalogue("en").get(key)
