"""Resolve identifiers and imported member records: what is accepted, how it is normalised and
protected, and the code and field of each refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from newretail.errors import InvalidInput
from newretail.identity.identifiers import (
    BAD_PHONE,
    MAX_IDENTIFIERS,
    Identifier,
    parse_identifiers,
    parse_member,
    record_attributes,
)
from newretail.security.pii import PiiProtector

PROTECTOR = PiiProtector(bytes(range(32)))
NOW = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)


def _refusal(items: list[Mapping[str, object]]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_identifiers(items, protector=PROTECTOR)
    return caught.value


def test_phones_are_normalised_to_e164_and_kept_only_hashed_masked_and_encrypted() -> None:
    parsed = parse_identifiers(
        [
            {"type": "phone", "value": "138 0013 8000"},
            {"type": "phone", "value": "+65 9123 4567"},
            {"type": "phone", "value": "+86 138-0013-8000"},
        ],
        protector=PROTECTOR,
    )
    # The first and the third are one number, so one identifier.
    spaced, e164 = parsed
    assert spaced.value == PROTECTOR.hash("+8613800138000") and spaced.source is None
    assert spaced.masked == "138****8000"
    assert spaced.cipher is not None and PROTECTOR.decrypt(spaced.cipher) == "+8613800138000"
    assert e164.value == PROTECTOR.hash("+6591234567") and e164.masked == "91****67"
    assert "13800138000" not in repr(spaced)


def test_emails_are_lower_cased_before_hashing() -> None:
    (email,) = parse_identifiers(
        [{"type": "email", "value": " Li.Na@Example.COM "}], protector=PROTECTOR
    )
    assert email.value == PROTECTOR.hash("li.na@example.com")
    assert email.masked == "l***@example.com"


def test_record_ids_name_the_record_of_their_source() -> None:
    parsed = parse_identifiers(
        [
            {"type": "openid", "value": "o-abc", "app": "mini_program"},
            {"type": "app_uid", "value": "U1"},
            {"type": "platform_user_id", "value": "MT9", "platform": "meituan"},
            {"type": "pos_card_no", "value": " 8800123 "},
            {"type": "unionid", "value": "un-1"},
        ],
        protector=PROTECTOR,
    )
    assert [i.record for i in parsed] == [
        ("mini_program", "o-abc"),
        ("app", "U1"),
        ("meituan", "MT9"),
        ("pos", "8800123"),
        None,
    ]
    assert parsed[-1] == Identifier("unionid", "un-1")


@pytest.mark.parametrize(
    ("items", "code", "field"),
    [
        ([], "identity.no_identifiers", "identifiers"),
        ([{"type": "passport", "value": "E123"}], "identity.unknown_type", "identifiers[0].type"),
        ([{"value": "E123"}], "identity.unknown_type", "identifiers[0].type"),
        (
            [{"type": "email", "value": "a@b.cn"}, {"type": "phone", "value": "12345"}],
            "identity.bad_phone",
            "identifiers[1].value",
        ),
        ([{"type": "phone", "value": "138****8000"}], "identity.bad_phone", "identifiers[0].value"),
        (
            [{"type": "email", "value": "not-an-email"}],
            "identity.bad_email",
            "identifiers[0].value",
        ),
        ([{"type": "email", "value": "a@b@c.com"}], "identity.bad_email", "identifiers[0].value"),
        ([{"type": "app_uid", "value": ""}], "identity.bad_value", "identifiers[0].value"),
        ([{"type": "app_uid", "value": 42}], "identity.bad_value", "identifiers[0].value"),
        ([{"type": "unionid", "value": "u" * 65}], "identity.bad_value", "identifiers[0].value"),
        ([{"type": "openid", "value": "o-1"}], "identity.bad_app", "identifiers[0].app"),
        (
            [{"type": "openid", "value": "o-1", "app": "alipay"}],
            "identity.bad_app",
            "identifiers[0].app",
        ),
        (
            [{"type": "platform_user_id", "value": "x"}],
            "identity.bad_platform",
            "identifiers[0].platform",
        ),
        (
            [{"type": "phone", "value": "13800138000", "app": "wechat"}],
            "identity.unexpected_field",
            "identifiers[0].app",
        ),
        (
            [{"type": "unionid", "value": f"u{i}"} for i in range(MAX_IDENTIFIERS + 1)],
            "identity.too_many_identifiers",
            "identifiers",
        ),
    ],
)
def test_each_bad_identifier_is_refused_with_its_code_and_field(
    items: list[Mapping[str, object]], code: str, field: str
) -> None:
    error = _refusal(items)
    assert (error.code, error.field) == (code, field)


def test_a_bad_phone_says_why_without_repeating_the_number() -> None:
    error = _refusal([{"type": "phone", "value": "0755 1234 5678"}])
    assert error.message == BAD_PHONE == "not a mainland-China or Singapore mobile number"
    assert "5678" not in str(error)


def test_the_record_a_resolve_call_describes_holds_no_clear_pii() -> None:
    identifiers = parse_identifiers(
        [
            {"type": "pos_card_no", "value": "C1"},
            {"type": "phone", "value": "13800138000"},
            {"type": "unionid", "value": "un-1"},
        ],
        protector=PROTECTOR,
    )
    attributes = record_attributes("pos", "C1", identifiers, now=NOW)
    assert attributes["pos_card_no"] == "C1" and attributes["wechat_unionid"] == "un-1"
    assert attributes["phone_hash"] == PROTECTOR.hash("+8613800138000")
    assert attributes["business_date"] == "2025-03-01"
    assert "13800138000" not in repr(attributes)
    cipher = attributes["phone_cipher"]
    assert isinstance(cipher, str) and PROTECTOR.decrypt(bytes.fromhex(cipher)) == "+8613800138000"


def test_a_member_record_is_protected_and_its_other_ids_link_it() -> None:
    member = parse_member(
        {
            "source_record_id": "E-1",
            "phone": "13800138000",
            "email": "Li@Example.com",
            "pos_card_no": "C9",
            "app_uid": "U9",
            "wechat_unionid": "un-9",
            "name": " 李娜 ",
            "gender": "F",
            "birthday": "1990-05-17",
            "consent_sms": True,
            "created_at": "2024-01-02T03:04:05+08:00",
        },
        source="erp",
        protector=PROTECTOR,
        now=NOW,
        where="members[0]",
    )
    attributes = member.attributes
    assert (member.source, member.source_record_id) == ("erp", "E-1")
    assert attributes["name"] == "李娜" and attributes["birthday"] == "1990-05-17"
    assert attributes["created_at"] == "2024-01-01T19:04:05+00:00"
    assert attributes["updated_at"] == NOW.isoformat()
    assert attributes["consent_email"] is None
    assert "13800138000" not in repr(attributes) and "li@example.com" not in repr(attributes)
    assert [i.type for i in member.identifiers] == [
        "app_uid",
        "pos_card_no",
        "unionid",
        "phone",
        "email",
    ]
    assert member.identifiers[1].record == ("pos", "C9")


def test_a_pos_member_card_is_its_own_record_not_a_link() -> None:
    member = parse_member(
        {"source_record_id": "C9", "pos_card_no": "C9"},
        source="pos",
        protector=PROTECTOR,
        now=NOW,
        where="members[0]",
    )
    assert member.identifiers == [] and member.attributes["created_at"] is None


@pytest.mark.parametrize(
    ("member", "code", "field"),
    [
        ({}, "identity.bad_value", "members[2].source_record_id"),
        ({"source_record_id": "x" * 129}, "identity.bad_value", "members[2].source_record_id"),
        ({"source_record_id": "A", "phone": "110"}, "identity.bad_phone", "members[2].phone"),
        ({"source_record_id": "A", "email": "nobody"}, "identity.bad_email", "members[2].email"),
        ({"source_record_id": "A", "gender": "female"}, "identity.bad_gender", "members[2].gender"),
        (
            {"source_record_id": "A", "birthday": "17/05/1990"},
            "identity.bad_date",
            "members[2].birthday",
        ),
        (
            {"source_record_id": "A", "updated_at": "2025-01-01T00:00:00"},
            "identity.bad_timestamp",
            "members[2].updated_at",
        ),
        (
            {"source_record_id": "A", "consent_sms": "yes"},
            "identity.bad_value",
            "members[2].consent_sms",
        ),
        (
            {"source_record_id": "A", "mobile": "13800138000"},
            "identity.unknown_field",
            "members[2].mobile",
        ),
    ],
)
def test_each_bad_member_field_is_refused_with_its_position(
    member: Mapping[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_member(member, source="erp", protector=PROTECTOR, now=NOW, where="members[2]")
    assert (caught.value.code, caught.value.field) == (code, field)
