"""Phone and e-mail protection: HMAC for matching, a mask for display, AES-GCM for an audited reveal.

Keys are derived from the master key with HKDF so that the hashing key and the encryption key are
independent; rotating one never invalidates the other.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

import pyarrow as pa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from newretail.config import Settings
from newretail.security.keys import load_master_key

_NONCE = 12
_DIGITS = re.compile(r"\D")
# Mainland mobile numbers are 11 digits starting with 1; Singapore numbers are 8 digits from 3/6/8/9.
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SG = re.compile(r"^[3689]\d{7}$")


def normalize_phone(raw: str) -> str | None:
    """The E.164 form of a CN or SG phone number, or None when it is masked, partial or invalid.

    >>> normalize_phone("138 0013 8000"), normalize_phone("+65 9123 4567"), normalize_phone("138****8000")
    ('+8613800138000', '+6591234567', None)
    """
    if "*" in raw:
        return None
    digits = _DIGITS.sub("", raw)
    if digits.startswith("86") and _CN_MOBILE.match(digits[2:]):
        return "+" + digits
    if digits.startswith("65") and _SG.match(digits[2:]):
        return "+" + digits
    if _CN_MOBILE.match(digits):
        return "+86" + digits
    if _SG.match(digits):
        return "+65" + digits
    return None


def mask_phone(raw: str) -> str:
    """Hide the middle of a phone number: 13800138000 -> 138****8000 (already masked stays as is)."""
    digits = _DIGITS.sub("", raw) if "*" not in raw else raw
    if "*" in digits:
        return digits
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if digits.startswith("65") and len(digits) == 10:
        digits = digits[2:]
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 8:
        return digits[:2] + "****" + digits[-2:]
    return "****"


def normalize_email(raw: str) -> str | None:
    value = raw.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain:
        return None
    return value


def mask_email(raw: str) -> str:
    local, _, domain = raw.strip().lower().partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class ProtectedColumn:
    """The three columns that replace one clear-text PII column."""

    hash: pa.StringArray
    masked: pa.StringArray
    cipher: pa.BinaryArray


class PiiProtector:
    """Hashes, masks and encrypts PII with keys derived from the platform's master key."""

    def __init__(self, master_key: bytes) -> None:
        self._hmac_key = _derive(master_key, b"newretail pii hmac v1")
        self._aead = AESGCM(_derive(master_key, b"newretail pii aes-gcm v1"))

    @classmethod
    def from_settings(cls, settings: Settings) -> PiiProtector:
        return cls(load_master_key(settings))

    def hash(self, normalized: str) -> str:
        """HMAC-SHA256 (hex) of a normalized value; equal inputs give equal hashes for matching."""
        return hmac.new(self._hmac_key, normalized.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], None).decode()

    def protect_phones(self, values: pa.Array[pa.StringScalar]) -> ProtectedColumn:
        """Hash (when the number is whole), mask and encrypt a column of phone numbers."""
        hashes_: list[str | None] = []
        masked: list[str | None] = []
        ciphers: list[bytes | None] = []
        for raw in values.to_pylist():
            if raw is None or not raw.strip():
                hashes_.append(None)
                masked.append(None)
                ciphers.append(None)
                continue
            normalized = normalize_phone(raw)
            hashes_.append(self.hash(normalized) if normalized else None)
            masked.append(mask_phone(raw))
            ciphers.append(self.encrypt(normalized or raw.strip()))
        return _columns(hashes_, masked, ciphers)

    def protect_emails(self, values: pa.Array[pa.StringScalar]) -> ProtectedColumn:
        """Hash, mask and encrypt a column of e-mail addresses."""
        hashes_: list[str | None] = []
        masked: list[str | None] = []
        ciphers: list[bytes | None] = []
        for raw in values.to_pylist():
            normalized = normalize_email(raw) if raw else None
            if normalized is None:
                hashes_.append(None)
                masked.append(None)
                ciphers.append(None)
                continue
            hashes_.append(self.hash(normalized))
            masked.append(mask_email(normalized))
            ciphers.append(self.encrypt(normalized))
        return _columns(hashes_, masked, ciphers)


def _columns(
    hashes_: list[str | None], masked: list[str | None], ciphers: list[bytes | None]
) -> ProtectedColumn:
    return ProtectedColumn(
        hash=pa.array(hashes_, pa.string()),
        masked=pa.array(masked, pa.string()),
        cipher=pa.array(ciphers, pa.binary()),
    )


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)
