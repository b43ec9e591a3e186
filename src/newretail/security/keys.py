"""The platform's secret key: from NEWRETAIL_SECRET_KEY, or generated once into NEWRETAIL_HOME (0600)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from newretail.config import Settings
from newretail.errors import InvalidInput

KEY_BYTES = 32


def load_master_key(settings: Settings) -> bytes:
    """The 32-byte master key that PII encryption and hashing keys are derived from."""
    if settings.secret_key is not None:
        return _decode(settings.secret_key.get_secret_value(), "NEWRETAIL_SECRET_KEY")
    path = settings.key_file
    if path.exists():
        return _decode(path.read_text().strip(), str(path))
    return _create(path)


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode(path.read_text().strip(), str(path))
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
    return key


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise InvalidInput(
            "config.bad_secret_key", f"{where} must be {KEY_BYTES} bytes in url-safe base64"
        )
    return key


def derived_key(settings: Settings, purpose: bytes) -> bytes:
    """A 32-byte key for one ``purpose`` (``b"newretail flashsale tickets v1"``), derived from the
    master key: each use gets its own key and none reveals the master key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(
        load_master_key(settings)
    )
