"""Reading and checking tag declarations: the TOML format of ``definitions/*.toml`` (``[[tag]]`` tables
and ``[[family]]`` tables expanded over ``each``) and the rules every tag must follow."""

from __future__ import annotations

import re
import tomllib
from typing import Any, cast

from newretail.errors import InvalidInput
from newretail.tags.spec import CATEGORIES, ENTITIES, VALUE_TYPES, TagSpec

TAG_ID = re.compile(r"[a-z][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REQUIRED: tuple[str, ...] = (
    "id",
    "name_zh",
    "name_en",
    "category",
    "entity",
    "value_type",
    "definition",
    "description_zh",
    "description_en",
)
_OPTIONAL = ("unit", "values", "refresh", "source", "owner", "values_from")
_CHOICES: dict[str, tuple[str, ...]] = {
    "category": CATEGORIES,
    "entity": ENTITIES,
    "value_type": VALUE_TYPES,
    "refresh": ("daily", "realtime"),
    "source": ("expression", "model", "list"),
}


class InvalidTagDefinition(InvalidInput):
    """A tag definition is malformed; ``field`` names the key at fault, ``position`` the tag."""

    def __init__(self, message: str, *, field: str | None = None, position: str | None = None):
        super().__init__("tags.invalid_definition", message, field=field, position=position)


def load_toml(text: str, *, name: str = "<toml>") -> list[tuple[TagSpec, str | None]]:
    """The tags of one catalogue file with their ``values_from`` domain, families expanded."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidTagDefinition(f"not valid TOML: {exc}", position=name) from None
    unknown = set(doc) - {"tag", "family"}
    if unknown:
        raise InvalidTagDefinition(
            f"unknown top-level tables {sorted(unknown)}; use [[tag]] or [[family]]",
            position=name,
        )
    out: list[tuple[TagSpec, str | None]] = []
    for i, entry in enumerate(_tables(doc.get("tag", []), f"{name} [[tag]]")):
        out.append(_spec(entry, position=f"{name} [[tag]] #{i + 1}"))
    for i, family in enumerate(_tables(doc.get("family", []), f"{name} [[family]]")):
        where = f"{name} [[family]] #{i + 1}"
        each = family.get("each")
        if not isinstance(each, list) or not each or not all(isinstance(e, dict) for e in each):
            raise InvalidTagDefinition(
                "a family needs `each`: a non-empty array of tables", field="each", position=where
            )
        template = {k: v for k, v in family.items() if k != "each"}
        for j, names in enumerate(each):
            out.append(_spec(_expand(template, names, f"{where} element {j + 1}"), position=where))
    return out


def _tables(value: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidTagDefinition("expected an array of tables", position=where)
    return cast(list[dict[str, Any]], value)


def _expand(template: dict[str, Any], names: dict[str, Any], where: str) -> dict[str, Any]:
    """``template`` with every ``{name}`` placeholder replaced from ``names``."""
    for key, value in names.items():
        if not isinstance(value, str):
            raise InvalidTagDefinition(
                f"family value {key!r} must be a string", field="each", position=where
            )

    def fill(text: str, key: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                raise InvalidTagDefinition(
                    f"placeholder {{{match.group(1)}}} in {key} is not in the family's `each`",
                    field=key,
                    position=where,
                )
            return str(names[match.group(1)])

        return _PLACEHOLDER.sub(one, text)

    out: dict[str, Any] = {}
    for key, value in template.items():
        if isinstance(value, str):
            out[key] = fill(value, key)
        elif isinstance(value, list):
            out[key] = [fill(v, key) if isinstance(v, str) else v for v in value]
        else:
            out[key] = value
    return out


def _spec(entry: dict[str, Any], *, position: str) -> tuple[TagSpec, str | None]:
    where = f"{position} ({entry.get('id', '?')})"
    for key in entry:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise InvalidTagDefinition(f"unknown key {key!r}", field=key, position=where)
    for key in _REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise InvalidTagDefinition(f"{key} is required (a string)", field=key, position=where)
    values = entry.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidTagDefinition(
            "values must be an array of strings", field="values", position=where
        )
    domain = entry.get("values_from")
    if domain is not None and (not isinstance(domain, str) or not TAG_ID.fullmatch(domain)):
        raise InvalidTagDefinition(
            "values_from names a domain, e.g. store_ids", field="values_from", position=where
        )
    unit = entry.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise InvalidTagDefinition("unit must be a string", field="unit", position=where)
    for key, allowed in _CHOICES.items():
        if key in entry and entry[key] not in allowed:
            raise InvalidTagDefinition(
                f"{key} {entry[key]!r} is not one of {', '.join(allowed)}",
                field=key,
                position=where,
            )
    spec = TagSpec(
        id=entry["id"],
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        category=entry["category"],
        entity=entry["entity"],
        value_type=entry["value_type"],
        definition=entry["definition"].strip(),
        description_zh=entry["description_zh"].strip(),
        description_en=entry["description_en"].strip(),
        source=entry.get("source", "expression"),
        values=tuple(values),
        unit=unit,
        refresh=entry.get("refresh", "daily"),
        owner=entry.get("owner", "newretail"),
    )
    validate(spec, domain=domain, position=where)
    return spec, domain


def validate(spec: TagSpec, *, domain: str | None, position: str) -> None:
    """The checks a tag must pass however it was declared (TOML or a user's TagSpec)."""

    def fail(message: str, field: str) -> InvalidTagDefinition:
        return InvalidTagDefinition(message, field=field, position=position)

    if not TAG_ID.fullmatch(spec.id):
        raise fail(f"tag id {spec.id!r} must match [a-z][a-z0-9_]*", "id")
    for key, allowed in _CHOICES.items():
        if getattr(spec, key) not in allowed:
            raise fail(f"{key} {getattr(spec, key)!r} is not one of {', '.join(allowed)}", key)
    for key in ("name_zh", "name_en", "description_zh", "description_en", "definition"):
        if not getattr(spec, key).strip():
            raise fail(f"{key} must not be empty", key)
    if spec.value_type == "enum":
        if not spec.values and domain is None:
            raise fail("an enum tag needs its values (or values_from a data domain)", "values")
        if len(set(spec.values)) != len(spec.values) or not all(v for v in spec.values):
            raise fail("enum values must be distinct, non-empty strings", "values")
    elif spec.values or domain is not None:
        raise fail(f"only enum tags have values, not a {spec.value_type} tag", "values")
    if spec.source == "list" and spec.value_type != "bool":
        raise fail("a list tag is a bool: true for the listed keys", "value_type")
    if spec.source != "expression" and not TAG_ID.fullmatch(spec.definition):
        raise fail(f"a {spec.source} tag's definition names the {spec.source}", "definition")
