"""The identifiers real-time OneID resolves (phone, e-mail, unionid and the sources' record ids), and
member records sent for import: validated, normalised and with phone and e-mail protected."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from newretail.errors import InvalidInput
from newretail.model import codes
from newretail.security.pii import (
    PiiProtector,
    mask_email,
    mask_phone,
    normalize_email,
    normalize_phone,
)

# The identifier types a resolve request may name, strongest first.
TYPES = ("openid", "app_uid", "platform_user_id", "pos_card_no", "unionid", "phone", "email")
# Hashed or shared identifiers: the identity_links column each is looked up in (and its kind in
# identity_demoted). The other types name a record: (source, source_record_id).
LINK_COLUMNS = {"unionid": "wechat_unionid", "phone": "phone_hash", "email": "email_hash"}
OPENID_APPS = ("wechat", "mini_program")
PLATFORMS = ("meituan", "eleme", "tmall")
MAX_IDENTIFIERS = 20
_RECORD_SOURCE = {"app_uid": "app", "pos_card_no": "pos"}
# The record-id column each record-naming type fills in a record's attributes.
_RECORD_COLUMN = {
    "openid": "wechat_openid",
    "app_uid": "app_uid",
    "platform_user_id": "platform_user_id",
    "pos_card_no": "pos_card_no",
}
_QUALIFIER = {"openid": ("app", OPENID_APPS), "platform_user_id": ("platform", PLATFORMS)}
# Column widths in identity_links and identity_api_records.
_MAX_ID = {"unionid": 64}
_MAX_RECORD_ID = 128
_TEXT_LIMITS = {"name": 200, "city": 100, "address": 500}
_CONSENTS = ("consent_sms", "consent_email", "consent_wechat", "consent_push")
_MEMBER_IDS = ("wechat_unionid", "wechat_openid", "app_uid", "platform_user_id", "pos_card_no")
_MEMBER_FIELDS = frozenset(
    {"source_record_id", "phone", "email", "gender", "birthday", "created_at", "updated_at"}
    | set(_MEMBER_IDS)
    | set(_TEXT_LIMITS)
    | set(_CONSENTS)
)
BAD_PHONE = "not a mainland-China or Singapore mobile number"


@dataclass(frozen=True, slots=True)
class Identifier:
    """One normalised identifier. ``value`` is what is looked up: the HMAC of a phone or e-mail, the
    unionid, or a record id; ``source`` is set when the identifier names a record of that source."""

    type: str
    value: str
    source: str | None = None
    masked: str | None = None
    cipher: bytes | None = field(default=None, compare=False)

    @property
    def record(self) -> tuple[str, str] | None:
        return None if self.source is None else (self.source, self.value)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member record ready to store: ``attributes`` are the canonical identity columns (JSON-ready,
    PII protected; ``created_at`` is None when the sender gave none), ``identifiers`` what links it."""

    source: str
    source_record_id: str
    attributes: dict[str, object]
    identifiers: list[Identifier]


def parse_identifiers(
    items: Sequence[Mapping[str, object]], *, protector: PiiProtector
) -> list[Identifier]:
    """The identifiers of a resolve request, each checked; duplicates are dropped.

    Raises :class:`InvalidInput` (``identity.no_identifiers``, ``identity.unknown_type``,
    ``identity.bad_phone``...) naming the field, e.g. ``identifiers[1].type``.
    """
    if not items:
        raise InvalidInput(
            "identity.no_identifiers", "name at least one identifier", field="identifiers"
        )
    if len(items) > MAX_IDENTIFIERS:
        raise InvalidInput(
            "identity.too_many_identifiers",
            f"name at most {MAX_IDENTIFIERS} identifiers",
            field="identifiers",
        )
    parsed: list[Identifier] = []
    for i, item in enumerate(items):
        identifier = _parse_one(item, protector=protector, where=f"identifiers[{i}]")
        if identifier not in parsed:
            parsed.append(identifier)
    return parsed


def record_attributes(
    source: str, source_record_id: str, identifiers: Sequence[Identifier], *, now: dt.datetime
) -> dict[str, object]:
    """The attributes of a record that only its identifiers describe (a resolve call's record)."""
    attributes: dict[str, object] = {"source": source, "source_record_id": source_record_id}
    for identifier in identifiers:
        if identifier.type in ("phone", "email"):
            prefix = identifier.type
            attributes.setdefault(f"{prefix}_hash", identifier.value)
            attributes.setdefault(f"{prefix}_masked", identifier.masked)
            attributes.setdefault(f"{prefix}_cipher", _hex(identifier.cipher))
        elif identifier.type == "unionid":
            attributes.setdefault("wechat_unionid", identifier.value)
        elif identifier.record == (source, source_record_id):
            attributes[_RECORD_COLUMN[identifier.type]] = identifier.value
    return {**attributes, **_stamps(now, now)}


def parse_member(
    raw: Mapping[str, object], *, source: str, protector: PiiProtector, now: dt.datetime, where: str
) -> MemberRecord:
    """One member record of an import, checked field by field (errors name ``where.field``)."""
    unknown = sorted(set(raw) - _MEMBER_FIELDS)
    if unknown:
        raise InvalidInput(
            "identity.unknown_field", f"unknown field {unknown[0]!r}", field=f"{where}.{unknown[0]}"
        )
    record_id = _text(raw, "source_record_id", where=where, limit=_MAX_RECORD_ID, required=True)
    assert record_id is not None
    attributes: dict[str, object] = {"source": source, "source_record_id": record_id}
    identifiers: list[Identifier] = []
    for name, kind in (("phone", "phone"), ("email", "email")):
        value = raw.get(name)
        if value is not None:
            identifier = _contact(kind, value, protector=protector, where=f"{where}.{name}")
            attributes[f"{kind}_hash"] = identifier.value
            attributes[f"{kind}_masked"] = identifier.masked
            attributes[f"{kind}_cipher"] = _hex(identifier.cipher)
            identifiers.append(identifier)
    for name in _MEMBER_IDS:
        limit = _MAX_ID["unionid"] if name == "wechat_unionid" else _MAX_RECORD_ID
        attributes[name] = _text(raw, name, where=where, limit=limit)
    unionid = attributes["wechat_unionid"]
    if isinstance(unionid, str):
        identifiers.append(Identifier("unionid", unionid))
    # A record's other ids name records elsewhere only where the source is known; its own source's
    # id column is the record itself.
    for name, other in _RECORD_SOURCE.items():
        value = attributes[name]
        if isinstance(value, str) and other != source:
            identifiers.append(Identifier(name, value, source=other))
    for name, limit in _TEXT_LIMITS.items():
        attributes[name] = _text(raw, name, where=where, limit=limit)
    attributes["gender"] = _gender(raw.get("gender"), where=f"{where}.gender")
    attributes["birthday"] = _date(raw.get("birthday"), where=f"{where}.birthday")
    for name in _CONSENTS:
        attributes[name] = _flag(raw.get(name), where=f"{where}.{name}")
    created = _instant(raw.get("created_at"), where=f"{where}.created_at")
    updated = _instant(raw.get("updated_at"), where=f"{where}.updated_at") or now
    attributes.update(_stamps(created, updated))
    identifiers.sort(key=lambda identifier: TYPES.index(identifier.type))
    return MemberRecord(source, record_id, attributes, identifiers)


def _parse_one(item: Mapping[str, object], *, protector: PiiProtector, where: str) -> Identifier:
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise InvalidInput(
            "identity.unknown_type",
            f"unknown identifier type; use one of {', '.join(TYPES)}",
            field=f"{where}.type",
        )
    qualifier, allowed = _QUALIFIER.get(kind, ("", ()))
    extra = sorted(set(item) - {"type", "value", qualifier})
    if extra:
        raise InvalidInput(
            "identity.unexpected_field",
            f"a {kind} identifier takes no {extra[0]}",
            field=f"{where}.{extra[0]}",
        )
    value = item.get("value")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            "identity.bad_value", "value must be a non-empty string", field=f"{where}.value"
        )
    if kind in LINK_COLUMNS and kind != "unionid":
        return _contact(kind, value, protector=protector, where=f"{where}.value")
    value = value.strip()
    limit = _MAX_ID.get(kind, _MAX_RECORD_ID)
    if len(value) > limit:
        raise InvalidInput(
            "identity.bad_value", f"value is longer than {limit} characters", field=f"{where}.value"
        )
    if not qualifier:
        return Identifier(kind, value, source=_RECORD_SOURCE.get(kind))
    named = item.get(qualifier)
    if named not in allowed:
        raise InvalidInput(
            f"identity.bad_{qualifier}",
            f"a {kind} needs {qualifier}: one of {', '.join(allowed)}",
            field=f"{where}.{qualifier}",
        )
    assert isinstance(named, str)
    return Identifier(kind, value, source=named)


def _contact(kind: str, raw: object, *, protector: PiiProtector, where: str) -> Identifier:
    """A phone (E.164) or e-mail (lower-cased), hashed for matching, masked and encrypted to keep.
    Errors never repeat the value: it is personal data."""
    if kind == "phone":
        normal = normalize_phone(raw) if isinstance(raw, str) else None
        if normal is None:
            raise InvalidInput("identity.bad_phone", BAD_PHONE, field=where)
        masked = mask_phone(normal)
    else:
        normal = normalize_email(raw) if isinstance(raw, str) else None
        if normal is None or len(normal) > 254 or normal.count("@") != 1 or _spaced(normal):
            raise InvalidInput("identity.bad_email", "not an e-mail address", field=where)
        masked = mask_email(normal)
    return Identifier(kind, protector.hash(normal), masked=masked, cipher=protector.encrypt(normal))


def _text(
    raw: Mapping[str, object], name: str, *, where: str, limit: int, required: bool = False
) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise InvalidInput(
            "identity.bad_value",
            f"{name} must be a non-empty string of at most {limit} characters",
            field=f"{where}.{name}",
        )
    return value.strip()


def _gender(value: object, *, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in codes.GENDERS:
        return value
    raise InvalidInput(
        "identity.bad_gender", f"gender is one of {', '.join(codes.GENDERS)}", field=where
    )


def _date(value: object, *, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value).isoformat()
    raise InvalidInput("identity.bad_date", "a date is YYYY-MM-DD", field=where)


def _instant(value: object, *, where: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            instant = dt.datetime.fromisoformat(value)
            if instant.tzinfo is not None:
                return instant.astimezone(dt.UTC)
    raise InvalidInput(
        "identity.bad_timestamp", "a timestamp is ISO 8601 with a UTC offset", field=where
    )


def _flag(value: object, *, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInput("identity.bad_value", "a consent flag is true or false", field=where)


def _spaced(text: str) -> bool:
    return any(c.isspace() for c in text)


def _stamps(created: dt.datetime | None, updated: dt.datetime) -> dict[str, object]:
    return {
        "created_at": None if created is None else created.isoformat(),
        "updated_at": updated.isoformat(),
        "business_date": updated.astimezone(dt.UTC).date().isoformat(),
    }


def _hex(blob: bytes | None) -> str | None:
    return None if blob is None else blob.hex()
