"""PII protection: matching hashes, masks for display, encryption that only the key reverses."""

from __future__ import annotations

import stat
from pathlib import Path

import pyarrow as pa
import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from newretail.config import Settings, get_settings
from newretail.errors import InvalidInput
from newretail.security.keys import load_master_key
from newretail.security.pii import (
    PiiProtector,
    mask_email,
    mask_phone,
    normalize_email,
    normalize_phone,
)

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("91234567", "+6591234567"),
        ("+65 9123 4567", "+6591234567"),
        ("138****8000", None),
        ("12345", None),
        ("23800138000", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_masks_hide_the_middle() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+86 13800138000") == "138****8000"
    assert mask_phone("138****8000") == "138****8000"
    assert mask_phone("+6591234567") == "91****67"
    assert mask_email("Alice.Wong@Example.com") == "a***@example.com"
    assert normalize_email("not-an-email") is None


def test_same_number_in_two_spellings_hashes_equal_and_masked_numbers_do_not_hash() -> None:
    protector = PiiProtector(KEY)
    out = protector.protect_phones(
        pa.array(["13800138000", "+86 138 0013 8000", "138****8000", None])
    )
    hashes = out.hash.to_pylist()
    assert hashes[0] == hashes[1] and hashes[0] is not None
    assert hashes[2] is None and hashes[3] is None
    assert out.masked.to_pylist() == ["138****8000", "138****8000", "138****8000", None]
    assert protector.decrypt(out.cipher[0].as_py()) == "+8613800138000"


def test_hash_depends_on_the_key_and_ciphertext_needs_it() -> None:
    one, other = PiiProtector(KEY), PiiProtector(bytes(32))
    assert one.hash("+8613800138000") != other.hash("+8613800138000")
    blob = one.encrypt("+8613800138000")
    with pytest.raises(InvalidTag):
        other.decrypt(blob)


@given(st.text(min_size=12, max_size=60))
def test_encryption_round_trips(text: str) -> None:
    protector = PiiProtector(KEY)
    blob = protector.encrypt(text)
    assert text.encode() not in blob
    assert protector.decrypt(blob) == text


def test_key_is_generated_once_with_owner_only_permissions(settings: Settings) -> None:
    first = load_master_key(settings)
    assert load_master_key(settings) == first
    mode = stat.S_IMODE(settings.key_file.stat().st_mode)
    assert mode == 0o600


def test_key_from_environment_must_be_32_bytes(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", "too-short")
    get_settings.cache_clear()
    with pytest.raises(InvalidInput) as caught:
        load_master_key(get_settings())
    assert caught.value.code == "config.bad_secret_key"
    assert not (isolated_home / "secret.key").exists()
