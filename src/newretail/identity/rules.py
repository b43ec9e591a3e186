"""Which identifiers link records, how far each may fan out, and the fuzzy-match thresholds.

Defaults suit a retail chain; a JSON file (``identity.json`` under the home, or ``--rules``) may
override any of them, so a chain whose cashiers reuse store numbers can tighten the phone's fan-out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from newretail.errors import InvalidInput


@dataclass(frozen=True)
class IdentifierRule:
    """A linking identifier: its lake column, and when a value stops being trusted to link.

    ``max_records``: a value on more distinct records than this is a hub (a store's test number, a
    shared family tablet) and is demoted. ``conflict_check``: a value whose records disagree on
    birthday, gender, city or name (beyond a typo in its last character) belongs to several
    people (a family's phone) and is demoted too.
    """

    kind: str
    column: str
    max_records: int
    conflict_check: bool


DEFAULT_IDENTIFIERS = (
    IdentifierRule("phone", "phone_hash", max_records=8, conflict_check=True),
    IdentifierRule("email", "email_hash", max_records=6, conflict_check=True),
    IdentifierRule("unionid", "wechat_unionid", max_records=6, conflict_check=False),
)
# Identifiers that make a cluster a whole person; a cluster without one is fuzzy-matched. Not the
# e-mail: a Tmall buyer known by e-mail alone is most often a member whose app account holds the
# phone, and two clusters that both hold a contact are never compared.
CONTACT_KINDS = ("phone",)


@dataclass(frozen=True)
class IdentityRules:
    identifiers: tuple[IdentifierRule, ...] = DEFAULT_IDENTIFIERS
    accept_probability: float = 0.95
    review_probability: float = 0.90
    # Golden-profile survivorship: the source order used when a field is picked by trust.
    trusted_sources: tuple[str, ...] = (
        "app",
        "pos",
        "mini_program",
        "wechat",
        "tmall",
        "meituan",
        "eleme",
        "erp",
        "crm",
    )
    survivorship: dict[str, str] = field(
        default_factory=lambda: {
            "name": "most_trusted",
            "gender": "most_frequent",
            "birthday": "most_trusted",
            "city": "most_recent",
            "phone": "most_recent",
            "email": "most_recent",
            "address": "most_recent",
        }
    )

    def rule(self, kind: str) -> IdentifierRule:
        for rule in self.identifiers:
            if rule.kind == kind:
                return rule
        raise InvalidInput("identity.unknown_type", f"unknown identifier type {kind!r}")


SURVIVORSHIP_METHODS = ("most_trusted", "most_recent", "most_frequent")


def load_rules(path: Path | None) -> IdentityRules:
    """The default rules, overridden by the JSON file at ``path`` when it exists."""
    rules = IdentityRules()
    if path is None or not path.exists():
        return rules
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput("identity.bad_rules", f"{path}: not readable JSON ({error})") from None
    known = {f.name for f in fields(IdentityRules)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput("identity.bad_rules", f"{path}: unknown setting {unknown[0]!r}")
    if "identifiers" in raw:
        raw["identifiers"] = tuple(_identifier(path, item) for item in raw["identifiers"])
    if "trusted_sources" in raw:
        raw["trusted_sources"] = tuple(raw["trusted_sources"])
    for name, method in raw.get("survivorship", {}).items():
        if method not in SURVIVORSHIP_METHODS:
            raise InvalidInput(
                "identity.bad_rules",
                f"{path}: survivorship of {name!r} must be one of {', '.join(SURVIVORSHIP_METHODS)}",
            )
    return replace(rules, **raw)


def _identifier(path: Path, item: dict[str, Any]) -> IdentifierRule:
    try:
        return IdentifierRule(
            kind=str(item["kind"]),
            column=str(item["column"]),
            max_records=int(item["max_records"]),
            conflict_check=bool(item.get("conflict_check", False)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(
            "identity.bad_rules", f"{path}: bad identifier rule {item!r} ({error})"
        ) from None
